#!/usr/bin/python3
"""Concurrent checker of docs/architecture.md#invariants invariant 1 for the Message DB face.

Writers append to one category through message_store.write_message in short
transactions (some rolled back) while a reader pages get_category_messages
from its last global position + 1. Afterwards every committed message must
have been read exactly once, in global-position order. A scheme without the
per-category lock held to commit fails this within seconds.

    eval "$(scripts/cluster.sh env)"; scripts/msgdb-paging-check.py [seconds] [writers]

Uses its own throw-away database on the cluster named by PGHOST/PGPORT/PGUSER.
Exit status 1 on a violation.
"""
import random
import sys
import threading
import time
import uuid

import psycopg2

DB = "msgdb_paging_check"
SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 10
WRITERS = int(sys.argv[2]) if len(sys.argv) > 2 else 6
BATCH = 50


def admin(sql):
    conn = psycopg2.connect(dbname="postgres")
    conn.autocommit = True
    conn.cursor().execute(sql)
    conn.close()


def writer(stop, errors):
    try:
        conn = psycopg2.connect(dbname=DB)
        cur = conn.cursor()
        while not stop.is_set():
            for _ in range(random.randint(1, 3)):
                cur.execute("SELECT message_store.write_message(%s, %s, 'T', '{}')",
                            (str(uuid.uuid4()), "chk-%d" % random.randint(0, 20)))
            # Hold the transaction open a little so readers overtake it.
            time.sleep(random.random() * 0.002)
            if random.random() < 0.9:
                conn.commit()
            else:
                conn.rollback()
        conn.close()
    except Exception as e:  # reported by the main thread
        errors.append(e)


def main():
    admin('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % DB)
    admin('CREATE DATABASE "%s"' % DB)
    conn = psycopg2.connect(dbname=DB)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("CREATE EXTENSION eventodb")

    stop, errors = threading.Event(), []
    threads = [threading.Thread(target=writer, args=(stop, errors)) for _ in range(WRITERS)]
    for t in threads:
        t.start()

    seen, last, pages = [], 0, 0

    def page():
        nonlocal last, pages
        cur.execute("SELECT global_position FROM message_store.get_category_messages('chk', %s, %s)",
                    (last + 1, BATCH))
        rows = [r[0] for r in cur.fetchall()]
        pages += 1
        if rows:
            seen.extend(rows)
            last = rows[-1]
        return rows

    end = time.time() + SECONDS
    while time.time() < end:
        page()
    stop.set()
    for t in threads:
        t.join()
    while page():
        pass

    cur.execute("SELECT global_position FROM message_store.messages ORDER BY 1")
    table = [r[0] for r in cur.fetchall()]
    conn.close()
    admin('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % DB)

    missed = sorted(set(table) - set(seen))
    print("writers %d, %.0fs: committed %d, read %d in %d pages, missed %d, duplicates %d, ordered %s"
          % (WRITERS, SECONDS, len(table), len(seen), pages, len(missed),
             len(seen) - len(set(seen)), seen == sorted(seen)))
    if errors:
        print("writer error: %s" % errors[0])
    if missed:
        print("first missed global positions: %s" % missed[:10])
    return 1 if errors or missed or seen != table else 0


if __name__ == "__main__":
    sys.exit(main())
