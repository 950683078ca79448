"""Retention on PostgreSQL: 1,000,000 old messages purged in bounded time and memory.

Creates a fresh PostgreSQL database with the schema (migrations), then fills it on the
server side (INSERT ... SELECT over generate_series, so the client holds nothing): people,
old inbound messages ("done") and old outbox rows ("sent"/"delivered") that reply to
them, dated 1 to 60 days before the retention cutoff, with real AES-GCM ciphertext for
bodies and numbers (a pool sealed by the service's own Cipher, spread over the rows).
Rows that must survive are added too: recent messages, old messages still owed (an
unanswered inbound, an unsent reply), and daily counts already kept for old days.

It then runs the real ``workers.retention.purge_expired`` in this process and reports
rows deleted, seconds, rows/s, batches (one transaction each) and the slowest one, the
process's peak RSS growth during the purge, and checks that every surviving row is
still there and that the daily counts (MessageCount) equal what was deleted, per day,
channel and direction, added to what was kept before.

    .venv/bin/python -m bench.retention [--rows 1000000] [--recent 50000] [--batch 5000] [--json]

Targets: peak RSS growth < 100 MB; slowest batch <= 5 s (no long locks); every
surviving row and every count intact. The total time is reported (the job runs daily
with a one-hour timeout, so it must stay well under that for a day's worth of rows).
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import create_engine, event, text  # noqa: E402

from bench.common import postgres_database, report  # noqa: E402
from bot.services import Services  # noqa: E402
from core.config import Config  # noqa: E402
from core.crypto import Cipher, new_key  # noqa: E402

RETENTION_DAYS = 90
OLD_SPREAD_DAYS = 60  # old rows are spread over this many days before the cutoff
POOL = 512  # distinct ciphertexts sealed in Python and reused by the server-side insert
STILL_OWED = 100  # old rows of each direction that are not finished and must stay
BODIES = [
    "I can't sleep again, my mind keeps racing",
    "Habari, nimechoka sana na kazi na watoto",
    "1",
    "MENU",
    "Thank you, the breathing exercise helped a little",
    "Je me sens seul depuis que j'ai déménagé",
    "Try this: breathe in for 4, hold for 7, breathe out for 8. Reply DONE when you have tried it.",
    "You are not alone. If you are in danger now, call 1199 (free, 24 hours).",
]


def _rss_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak_rss() -> bool:
    """Reset VmHWM so the peak measures the purge alone (Linux >= 4.0); False if not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def seed(conn: Any, rows: int, recent: int, now: datetime) -> dict[str, int]:
    """Fill the database on the server side; returns how many rows of each sort were written."""
    cipher = Cipher((new_key(),))
    pool = [
        {"i": i, "body": cipher.encrypt(BODIES[i % len(BODIES)] + f" ({i})", b"body"),
         "phone": cipher.encrypt(f"+2547{i:08d}", b"phone")}
        for i in range(POOL)
    ]
    conn.execute(text("CREATE TEMP TABLE pool (i int PRIMARY KEY, body bytea, phone bytea)"))
    conn.execute(text("INSERT INTO pool VALUES (:i, :body, :phone)"), pool)
    people = max(1000, rows // 20)
    conn.execute(text("""
        INSERT INTO contacts (phone_hash, phone_enc, channel, locale, state, opted_out, paused, created_at,
                              reminders_paused, sms_fallback)
        SELECT md5('p' || g) || md5('q' || g), p.phone, CASE WHEN g % 5 = 0 THEN 'whatsapp' ELSE 'sms' END,
               'en', '{}', false, false, :created, false, false
        FROM generate_series(1, CAST(:people AS bigint)) g JOIN pool p ON p.i = g % :pool
    """), {"people": people, "pool": POOL, "created": now - timedelta(days=RETENTION_DAYS + OLD_SPREAD_DAYS + 1)})
    cutoff = now - timedelta(days=RETENTION_DAYS)
    spread_s = OLD_SPREAD_DAYS * 86400

    def messages(count: int, start: int, newest: datetime, spread: int, in_status: str, out_status: str) -> None:
        """``count`` inbound messages from ``start``, each with one reply, dated up to ``spread`` s before newest."""
        params = {"n": count, "start": start, "newest": newest, "spread": spread, "people": people, "pool": POOL,
                  "in_status": in_status, "out_status": out_status}
        conn.execute(text("""
            INSERT INTO inbound_messages (id, message_sid, channel, from_hash, from_enc, to_address, body_enc,
                                          num_media, status, attempts, received_at, processed_at, contact_id)
            SELECT g, 'SM' || md5('m' || g), CASE WHEN g % 5 = 0 THEN 'whatsapp' ELSE 'sms' END,
                   md5('p' || c) || md5('q' || c), p.phone, '+15550001000', p.body, 0, :in_status, 1,
                   :newest - make_interval(secs => (g * 7919) % :spread),
                   :newest - make_interval(secs => (g * 7919) % :spread) + interval '2 seconds', c
            FROM generate_series(CAST(:start AS bigint), CAST(:start AS bigint) + :n - 1) g
            CROSS JOIN LATERAL (SELECT 1 + g % :people AS c) who
            JOIN pool p ON p.i = g % :pool
        """), params)
        conn.execute(text("""
            INSERT INTO outbox (id, contact_id, inbound_id, channel, body_enc, body_sha256, content_ref, locale, kind,
                                segments, encoding, status, provider_sid, attempts, created_at, sending_at, sent_at,
                                status_at)
            SELECT g, 1 + g % :people, g, CASE WHEN g % 5 = 0 THEN 'whatsapp' ELSE 'sms' END, p.body,
                   md5('b' || g) || md5('c' || g), 'module.sleep.tip@3', 'en', 'reply', 1 + g % 2, 'GSM-7',
                   CASE WHEN :out_status = 'sent' AND g % 3 = 0 THEN 'delivered' ELSE :out_status END,
                   CASE WHEN :out_status = 'pending' THEN NULL ELSE 'SM' || md5('s' || g) END, 1,
                   :newest - make_interval(secs => (g * 7919) % :spread) + interval '3 seconds',
                   :newest - make_interval(secs => (g * 7919) % :spread) + interval '3 seconds',
                   :newest - make_interval(secs => (g * 7919) % :spread) + interval '4 seconds',
                   :newest - make_interval(secs => (g * 7919) % :spread) + interval '9 seconds'
            FROM generate_series(CAST(:start AS bigint), CAST(:start AS bigint) + :n - 1) g JOIN pool p ON p.i = g % :pool
        """), params)

    old = rows // 2
    messages(old, 1, cutoff - timedelta(minutes=1), spread_s, "done", "sent")
    # Old but still owed: never purged (the sweeper's work, not retention's).
    messages(STILL_OWED, old + 1, cutoff - timedelta(days=3), 86400, "received", "pending")
    kept = recent // 2
    messages(kept, old + STILL_OWED + 1, now, (RETENTION_DAYS - 1) * 86400, "done", "sent")
    top = old + STILL_OWED + kept + 1
    for table in ("inbound_messages", "outbox"):
        conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {top})"))
    # Cases that point at old messages (their link is cleared, the case stays).
    conn.execute(text("""
        INSERT INTO escalations (contact_id, inbound_id, severity, reason, status, opened_at)
        SELECT 1 + g % :people, g, 'high', 'rule:hopeless', 'closed', :at FROM generate_series(1, CAST(:n AS bigint), 997) g
    """), {"people": people, "n": old, "at": cutoff - timedelta(days=30)})
    # Counts kept by an earlier purge, for a day that is purged again now: they must add up.
    conn.execute(text("""
        INSERT INTO message_counts (day, channel, direction, count)
        SELECT date(:day), 'sms', d, 1000 FROM (VALUES ('in'), ('out')) v(d)
    """), {"day": cutoff - timedelta(days=OLD_SPREAD_DAYS // 2)})
    return {"people": people, "old": old, "owed": STILL_OWED, "recent": kept}


def _counts(conn: Any, table: str, time_col: str, owed: str, cutoff: datetime) -> Counter:
    """Rows the purge should delete, by day and channel (what the daily counts must gain)."""
    found = conn.execute(text(f"SELECT date({time_col}), channel, count(*) FROM {table} "
                              f"WHERE {time_col} < :cutoff AND status NOT IN {owed} GROUP BY 1, 2"), {"cutoff": cutoff})
    return Counter({(str(day), channel): n for day, channel, n in found})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="old rows to purge, inbound and outbox together")
    parser.add_argument("--recent", type=int, default=50_000, help="recent rows that must survive, both tables")
    parser.add_argument("--batch", type=int, default=5000, help="rows per transaction (purge_expired's batch)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    now = datetime.now(UTC)
    with postgres_database() as url:
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        seed_started = time.monotonic()
        with engine.begin() as conn:
            seeded = seed(conn, args.rows, args.recent, now)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        seed_s = time.monotonic() - seed_started
        cutoff = now - timedelta(days=RETENTION_DAYS)
        with engine.connect() as conn:
            params = {"cutoff": cutoff}
            expected_in = _counts(conn, "inbound_messages", "received_at", "('received', 'processing')", cutoff)
            expected_out = _counts(conn, "outbox", "created_at", "('pending', 'sending')", cutoff)
            kept_before = {(str(d), c, direction): n for d, c, direction, n in conn.execute(
                text("SELECT day, channel, direction, count FROM message_counts"))}
            survivors = {t: set(conn.scalars(text(f"SELECT id FROM {t} WHERE {col} >= :cutoff OR status IN {owed}"),
                                             params))
                         for t, col, owed in (("inbound_messages", "received_at", "('received', 'processing')"),
                                              ("outbox", "created_at", "('pending', 'sending')"))}
            total_before = {t: conn.scalar(text(f"SELECT count(*) FROM {t}")) for t in survivors}

        services = Services(Config.from_env({}, DATABASE_URL=url, RETENTION_DAYS=RETENTION_DAYS,
                                            INSTANCE_DIR=os.path.join("/tmp", "tumaini-bench-retention")))
        commits: list[float] = []
        event.listen(services.db.engine, "commit", lambda _conn: commits.append(time.perf_counter()))
        from workers.retention import purge_expired

        rss_before_kb = _rss_kb("VmRSS")
        peak_reset = _reset_peak_rss()
        started = time.perf_counter()
        result = purge_expired(services, batch=args.batch, now=now)
        elapsed = time.perf_counter() - started
        peak_kb = _rss_kb("VmHWM") if peak_reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        services.close()
        marks = [started, *commits]
        batch_s = [b - a for a, b in zip(marks, marks[1:], strict=False)]

        with engine.connect() as conn:
            after = {t: set(conn.scalars(text(f"SELECT id FROM {t}"))) for t in survivors}
            kept_after = {(str(d), c, direction): n for d, c, direction, n in conn.execute(
                text("SELECT day, channel, direction, count FROM message_counts"))}
            dangling = conn.scalar(text("SELECT count(*) FROM escalations WHERE inbound_id IS NOT NULL "
                                        "AND inbound_id NOT IN (SELECT id FROM inbound_messages)"))
            cases = conn.scalar(text("SELECT count(*) FROM escalations"))
        engine.dispose()

    deleted = result.inbound_deleted + result.outbox_deleted
    survived = all(survivors[t] == after[t] for t in survivors)
    wanted = Counter(kept_before)
    for (day, channel), n in expected_in.items():
        wanted[(day, channel, "in")] += n
    for (day, channel), n in expected_out.items():
        wanted[(day, channel, "out")] += n
    counts_ok = dict(wanted) == kept_after
    growth_mb = (peak_kb - rss_before_kb) / 1024
    slowest = max(batch_s) if batch_s else float("nan")
    expected_deleted = sum(expected_in.values()) + sum(expected_out.values())
    ok = survived and counts_ok and deleted == expected_deleted and growth_mb < 100 and dangling == 0
    report(f"Retention purge on PostgreSQL: {deleted:,} old rows, batch {args.batch}", [
        ("rows seeded (people / old / still owed / recent, per table)",
         f"{seeded['people']} / {seeded['old']} / {seeded['owed']} / {seeded['recent']}", ""),
        ("seeding and VACUUM ANALYZE, s", round(seed_s, 1), ""),
        ("rows before (inbound + outbox)", sum(total_before.values()), ""),
        ("rows deleted", deleted, f"= {expected_deleted}"),
        ("inbound / outbox deleted", f"{result.inbound_deleted} / {result.outbox_deleted}", ""),
        ("purge seconds", round(elapsed, 1), "documented (job timeout 3600)"),
        ("rows/s", round(deleted / elapsed) if elapsed else 0, ""),
        ("batches (transactions)", result.batches, ""),
        ("slowest batch, s", round(slowest, 3), "<= 5"),
        ("median batch, s", round(sorted(batch_s)[len(batch_s) // 2], 3) if batch_s else 0, ""),
        ("RSS before purge, MB", round(rss_before_kb / 1024, 1), ""),
        ("peak RSS growth during purge, MB", round(growth_mb, 1), "< 100"),
        ("peak measured by", "VmHWM reset" if peak_reset else "ru_maxrss (whole run)", ""),
        ("surviving rows intact (recent + still owed)", "yes" if survived else "NO", "yes"),
        ("daily counts = kept + deleted, per day/channel/direction", "yes" if counts_ok else "NO", "yes"),
        ("cases kept, links to deleted messages cleared", f"{cases} kept, {dangling} dangling", "0 dangling"),
    ], as_json=args.json)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
