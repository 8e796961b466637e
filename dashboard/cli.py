"""The `dashboard` command line: `dashboard serve [...]`."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from dashboard import config
from dashboard.web import auth


def parser() -> argparse.ArgumentParser:
    """The command-line parser."""
    root = argparse.ArgumentParser(prog="dashboard", description="Dreadnode training-job dashboard")
    commands = root.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the dashboard")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8050, help="port (default 8050)")
    serve.add_argument("--demo", action="store_true", help="show the bundled demo jobs")
    serve.add_argument("--jobs-dir", metavar="DIR", help="show jobs exported with `dn train ... --json`")
    serve.add_argument("--profile", metavar="NAME", help="profile of ~/.dreadnode/config.yaml")
    serve.add_argument("--server", metavar="URL", help="platform URL (else DREADNODE_SERVER)")
    serve.add_argument("--organization", metavar="SLUG", help="else DREADNODE_ORGANIZATION")
    serve.add_argument("--workspace", metavar="SLUG", help="else DREADNODE_WORKSPACE")
    serve.add_argument("--project", metavar="SLUG", help="else DREADNODE_PROJECT")
    serve.add_argument("--api-key", metavar="KEY",
                       help="API key (prefer DREADNODE_API_KEY: flags show up in process lists)")
    serve.add_argument("--auth", choices=auth.MODES,
                       help="who may look (else DASHBOARD_AUTH; default none, loopback only): "
                            "viewer = each person signs in with their own API key; "
                            "service = one read-only key from the environment")
    serve.add_argument("--redis-url", metavar="URL",
                       help="share upstream reads with every instance using this Redis (else "
                            "DASHBOARD_REDIS_URL; prefer it when the URL holds a password)")
    return root


def describe(settings: config.Settings) -> str:
    """One line saying where jobs come from, without the key."""
    if settings.source == "platform":
        scope = "/".join(filter(None, (settings.organization, settings.workspace))) or "default scope"
        whose = ", each viewer's own key" if settings.auth == "viewer" else ""
        return f"platform {settings.server} ({scope}{whose})"
    if settings.source == "directory":
        return f"exported jobs in {settings.jobs_dir}"
    return "bundled demo jobs (no Dreadnode credentials found)"


def main(argv: list[str] | None = None) -> int:
    """Run the command line."""
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = config.resolve(vars(args), os.environ)
        if settings.source == "directory" and not (settings.jobs_dir and settings.jobs_dir.is_dir()):
            raise config.ConfigError(f"--jobs-dir {settings.jobs_dir} is not a directory")
        auth.check_bind([args.host], settings.auth)
        auth.check_settings(settings.auth, settings.source, os.environ.get("DASHBOARD_SECRET_KEY"))
    except (config.ConfigError, auth.AuthConfigError) as exc:
        print(f"dashboard: {exc}", file=sys.stderr)
        return 2

    from werkzeug.serving import run_simple

    from dashboard import create_app

    app = create_app(settings)
    mode = "" if settings.auth == "none" else f", auth mode {settings.auth}"
    mode += ", reads shared through Redis" if settings.redis_url else ""
    print(f"Serving {describe(settings)} on http://{args.host}:{args.port}/{mode}", flush=True)
    run_simple(args.host, args.port, app, threaded=True, use_reloader=False)
    return 0
