"""A throwaway PostgreSQL cluster for the tests: initdb and pg_ctl from the machine's PostgreSQL (Debian's
`postgresql` package, which .ci/run installs), run as an unprivileged user, listening on 127.0.0.1 only,
with password (SCRAM) authentication. The LiteLLM_SpendLogs table is made from LiteLLM's own Prisma model
(fixtures/LiteLLM_SpendLogs.prisma) with the types Prisma's Postgres migrations use."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
USER = "litellm"
PASSWORD = "pl-test-secret-9f3c"
DATABASE = "litellm"
PRISMA_TYPES = {
    "String": "TEXT",
    "Int": "INTEGER",
    "BigInt": "BIGINT",
    "Float": "DOUBLE PRECISION",
    "Boolean": "BOOLEAN",
    "DateTime": "TIMESTAMP(3)",
    "Json": "JSONB",
}


def postgres_bin(name: str) -> str:
    """The path of a PostgreSQL server program (Debian keeps them out of PATH)."""
    found = shutil.which(name) or next(iter(sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))), None)
    if found is None:
        raise RuntimeError(f"{name} not found: install Debian's postgresql package (.ci/run does)")
    return str(found)


def spendlogs_ddl(prisma: str) -> str:
    """CREATE TABLE for a Prisma model, as Prisma's Postgres migration writes it."""
    name = re.search(r"model (\w+) \{", prisma)
    assert name is not None
    columns, key = [], None
    for line in prisma.splitlines()[1:]:
        line = line.split("//", 1)[0].strip()
        if not line or line.startswith("@@") or line == "}":
            continue
        field, kind, *attrs = line.split(maxsplit=2)
        rest = attrs[0] if attrs else ""
        optional = kind.endswith("?")
        sql = f'"{field}" {PRISMA_TYPES[kind.rstrip("?")]}'
        if not optional:
            sql += " NOT NULL"
        default = re.search(r"@default\s*\((.*?)\)(?:\s|$)", rest + " ")
        if default:
            value = default.group(1).strip()
            value = "CURRENT_TIMESTAMP" if value == "now()" else value.replace('"', "'")
            sql += f" DEFAULT {value}"
        if "@id" in rest:
            key = field
        columns.append(sql)
    columns.append(f'CONSTRAINT "{name.group(1)}_pkey" PRIMARY KEY ("{key}")')
    return f'CREATE TABLE "{name.group(1)}" (\n  ' + ",\n  ".join(columns) + "\n)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Postgres:
    root: Path
    data: Path
    port: int
    run_as: list[str]

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{DATABASE}"

    def connect(self):  # type: ignore[no-untyped-def]
        import psycopg

        return psycopg.connect(
            host="127.0.0.1", port=self.port, user=USER, password=PASSWORD, dbname=DATABASE, autocommit=True
        )

    def stop(self) -> None:
        subprocess.run(
            [*self.run_as, postgres_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(self.root, ignore_errors=True)


def start(root: Path) -> Postgres:
    """initdb and start a cluster under `root`; as root, the server runs as the `postgres` user (or
    `nobody`) in a folder of its own under the system's temporary directory (pytest's folders are
    private to root)."""
    run_as: list[str] = []
    if os.geteuid() == 0:
        user = "postgres" if _user_exists("postgres") else "nobody"
        run_as = ["runuser", "-u", user, "--"]
        root = Path(tempfile.mkdtemp(prefix="prodlens-pg-"))
        shutil.chown(root, user)
    data = root / "data"
    pwfile = root / "pw"
    pwfile.write_text(PASSWORD + "\n")
    if run_as:
        shutil.chown(pwfile, run_as[2])
    _run(
        [
            *run_as,
            postgres_bin("initdb"),
            "-D",
            str(data),
            "-U",
            USER,
            "--auth=scram-sha-256",
            f"--pwfile={pwfile}",
            "-E",
            "UTF8",
            "--no-locale",
        ],
    )
    port = free_port()
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off"
    _run(
        [
            *run_as,
            postgres_bin("pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(root / "server.log"),
            "-w",
            "start",
        ],
    )
    server = Postgres(root, data, port, run_as)
    import psycopg

    with psycopg.connect(
        host="127.0.0.1", port=port, user=USER, password=PASSWORD, dbname="postgres", autocommit=True
    ) as con:
        con.execute(f"create database {DATABASE}")
    with server.connect() as con:
        con.execute(spendlogs_ddl((FIXTURES / "LiteLLM_SpendLogs.prisma").read_text()))
    return server


def _run(command: list[str]) -> None:
    proc = subprocess.run(command, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({proc.returncode}): {proc.stdout}{proc.stderr}")


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
