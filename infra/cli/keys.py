"""``barnflow keys``: generate keys and re-encrypt the event store under a new cipher key.

Rotation is two steps an operator can take at their own pace: (1) make the new key current and
keep the old one in ``BARNFLOW_CIPHER_OLD_KEYS`` (everything stays readable, new rows use the new
key); (2) ``barnflow keys rotate --apply`` re-encrypts the old rows, after which the old key can be
destroyed. Step 2 works in bounded batches, each one transaction holding eventsourcing's table
lock (no append interleaves with a rewrite), so it can be stopped and started again at any time:
the rows still to do are found by their key id, without decrypting anything.
"""

from __future__ import annotations

import argparse
import base64
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from infra.ops.keys import Inventory
    from infra.persistence.cipher import Keyring

#: the keys ``keys generate`` prints (each as its environment variable, ``_key_env``)
KEYS = ("codec", "pseudonym", "cipher")


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``keys generate``, ``keys rotate`` and ``codec-server`` to the barnflow CLI."""
    keys_p = subparsers.add_parser("keys", help="generate keys, rotate the event-store key")
    sub = keys_p.add_subparsers(dest="keys_command", required=True)
    gen = sub.add_parser("generate", help="print fresh keys as environment assignments")
    gen.add_argument("--only", choices=KEYS, default=None, help="just this key")
    gen.set_defaults(func=cmd_generate)
    rot = sub.add_parser(
        "rotate", help="re-encrypt stored events with BARNFLOW_CIPHER_KEY (dry run by default)"
    )
    rot.add_argument("--apply", action="store_true", help="re-encrypt (default: only count)")
    # default None: infra.ops.keys.DEFAULT_BATCH, read when the command runs (a light parser)
    rot.add_argument("--batch-size", type=_batch_size, default=None)
    rot.set_defaults(func=cmd_rotate)

    from infra.temporal import codec_server

    codec_server.register(subparsers)


def _batch_size(text: str) -> int:
    try:
        n = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from exc
    if not 1 <= n <= 10_000:
        raise argparse.ArgumentTypeError("between 1 and 10000")
    return n


def cmd_generate(args: argparse.Namespace) -> int:
    """Fresh 32-byte keys. The pseudonym key is not rotated lightly: it names the workflows."""
    from infra.config.settings import (
        ENV_CIPHER_KEY,
        ENV_CIPHER_OLD_KEYS,
        ENV_CODEC_KEY,
        ENV_PSEUDONYM_KEY,
    )

    key_env = {"codec": ENV_CODEC_KEY, "pseudonym": ENV_PSEUDONYM_KEY, "cipher": ENV_CIPHER_KEY}
    names = [args.only] if args.only else list(KEYS)
    for name in names:
        print(f"{key_env[name]}={base64.b64encode(secrets.token_bytes(32)).decode()}")
    print(
        "# store these in the kommun's secret store; to rotate the cipher key, move the old "
        f"value to {ENV_CIPHER_OLD_KEYS} and run `barnflow keys rotate --apply`",
        file=sys.stderr,
    )
    return 0


@contextmanager
def _database_url() -> Iterator[tuple[str, str, Keyring]]:
    """The configured or embedded database (not ``bootstrap``: no Temporal, no projections)."""
    from infra.config.settings import load_settings
    from infra.persistence.cipher import Keyring
    from infra.persistence.embedded_pg import embedded_postgres

    settings = load_settings()
    keyring = Keyring(settings.keys.cipher, settings.keys.cipher_old)
    if settings.database.url is not None:
        yield settings.database.url, settings.database.schema, keyring
        return
    with embedded_postgres(settings.home) as url:
        yield url, settings.database.schema, keyring


def _describe(inv: Inventory) -> str:
    parts = []
    for kid, n in sorted(inv.by_key.items()):
        label = (
            "current"
            if kid == inv.current_key_id
            else ("no key id" if kid == "legacy" else "retired")
        )
        parts.append(f"{n} under {kid} ({label})")
    return ", ".join(parts) or "no stored events"


def cmd_rotate(args: argparse.Namespace) -> int:
    from eventsourcing.persistence import MapperDeserialisationError

    from infra.ops.keys import DEFAULT_BATCH, RotationError, rotate
    from infra.persistence.cipher import CipherKeyError

    try:
        with _database_url() as (url, schema, keyring):
            result = rotate(
                url,
                schema,
                keyring,
                batch_size=DEFAULT_BATCH if args.batch_size is None else args.batch_size,
                apply=args.apply,
                progress=lambda n: print(f"  re-encrypted {n}", file=sys.stderr),
            )
    except (RotationError, CipherKeyError, MapperDeserialisationError) as exc:
        print(f"barnflow: {exc}", file=sys.stderr)
        return 2
    before = result.before
    print(
        f"current cipher key id {before.current_key_id}; {before.total} stored events: "
        f"{_describe(before)}"
    )
    if not args.apply:
        print(f"dry run: {before.pending} event(s) would be re-encrypted; add --apply to do it")
        return 0
    print(
        f"re-encrypted {result.rotated} event(s) in {result.batches} batch(es); "
        f"{result.after.pending} remain under other keys"
    )
    return 0 if result.after.pending == 0 else 1
