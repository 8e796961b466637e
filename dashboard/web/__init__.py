"""The web layer: Flask routes and the request plumbing around them."""
