"""``mirage serve``: the local web app and REST service (mirage.server), with a one-time login link."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Any

import typer

from mirage.cli._ui import UI, DebugOption, QuietOption
from mirage.errors import DataError, MissingDependencyError, OptionError

__all__ = ["DEFAULT_PORT", "read_token", "register"]

DEFAULT_PORT = 8765


def read_token(path: Path | None) -> str:
    """The token in ``path`` (its first line), or a new random one."""
    if path is None:
        return secrets.token_urlsafe(32)
    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise DataError(f"--token-file '{path}': cannot read it: {exc.strerror or exc}") from exc
    if len(token) < 16 or any(c.isspace() or not c.isprintable() or c in ";," for c in token):
        raise OptionError(
            f"--token-file '{path}': the token must be one line of at least 16 printable characters "
            "without spaces, ';' or ','"
        )
    return token


def serve_command(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option(help="Address to listen on; 0.0.0.0 opens the server to the network.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = DEFAULT_PORT,
    token_file: Annotated[
        Path | None,
        typer.Option(help="File holding the access token (default: a new random token each start)."),
    ] = None,
    data_dir: Annotated[
        Path, typer.Option(help="Folder for uploads, models, samples and the job records.")
    ] = Path("mirage-data"),
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Jobs that run at once (one process each).")
    ] = 1,
    max_upload_mb: Annotated[int, typer.Option(min=1, help="Largest upload, in MiB.")] = 200,
    debug: DebugOption = False,
    quiet: QuietOption = False,
) -> None:
    """Serve the web app and REST API: upload, review the schema, train, report, sample, download."""
    ui = UI.of(ctx, debug=debug, quiet=quiet)
    try:
        import uvicorn

        from mirage.server import Limits, create_app
    except ImportError as exc:
        raise MissingDependencyError(
            f'mirage serve needs the web extra ({exc.name} is missing): pip install "mirage-synth[web]"'
        ) from None
    token = read_token(token_file)
    if data_dir.exists() and not data_dir.is_dir():
        raise DataError(f"--data-dir '{data_dir}' is a file, not a folder")
    data_dir.mkdir(parents=True, exist_ok=True)
    app = create_app(
        data_dir, token, workers=workers, limits=Limits(upload_bytes=max_upload_mb * 1024 * 1024)
    )
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    shown = f"[{shown}]" if ":" in shown else shown
    # keep-alive longer than clients keep idle connections (httpx: 5 s, browsers: more), so that a
    # client never sends a request on a connection the server is closing at the same moment
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False, timeout_keep_alive=75
    )
    server = uvicorn.Server(config)
    if host not in ("127.0.0.1", "localhost", "::1"):
        ui.say(f"listening on {host}: anyone who can reach this port and has the token can use the server")

    def announce() -> None:
        bound = port
        for s in server.servers:
            for sock in s.sockets:
                bound = sock.getsockname()[1]
        # printed even with --quiet: without it nobody can log in
        typer.echo(f"Mirage is serving {data_dir.resolve()}; open this link to log in (it holds the token):")
        typer.echo(f"  http://{shown}:{bound}/login?token={token}", color=False)

    original = server.startup

    async def startup(sockets: list[Any] | None = None) -> None:
        await original(sockets)
        if server.started:
            announce()

    setattr(server, "startup", startup)  # noqa: B010  (announce the link once the port is bound)
    server.run()


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)
