"""Submissions taken in groups: each worker stores the submissions of its requests with one
thread of its own, all those that arrived while it was busy together (:func:`exams.submit_many`:
one read, one grading batch per task, one transaction and one insert for the group), while
the event loop goes on reading requests.

A submission alone is stored at once; under load the groups grow by themselves, and each
costs about what one submission used to: a thread per request, each with its own
transactions and its own grading, spent most of the server's time switching threads and
waiting on the database. A request that goes away before its group starts is dropped
(nothing stored); once stored, a submission stays stored (as a request whose answer was
lost).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import Future

from app.classroom import exams
from app.classroom.db import Database

log = logging.getLogger("stepgrad.classroom")

MAX_GROUP = 256
"""Most submissions stored together."""


class Intake:
    """This worker's submissions on their way to the database (see the module's docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[Database, list[tuple[exams.Attempt, Future[None]]]] = {}
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    async def submit(
        self, db: Database, exam_id: int, student_id: str, body: exams.SubmissionIn
    ) -> tuple[exams.Exam, exams.Submission]:
        """Store an attempt (:func:`exams.submit`) without holding up the event loop; the exam
        (detached) and the stored submission, or the error that refused it raised."""
        attempt = exams.Attempt(exam_id, student_id, body)
        done: Future[None] = Future()
        with self._lock:
            self._waiting.setdefault(db, []).append((attempt, done))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="intake", daemon=True)
                self._thread.start()
        self._wake.set()
        await asyncio.wrap_future(done)
        return attempt.result()

    def _take(self) -> tuple[Database, list[tuple[exams.Attempt, Future[None]]]] | None:
        """Up to :data:`MAX_GROUP` waiting submissions of one database, or None."""
        with self._lock:
            for db, waiting in self._waiting.items():
                taken, rest = waiting[:MAX_GROUP], waiting[MAX_GROUP:]
                if rest:
                    self._waiting[db] = rest
                else:
                    del self._waiting[db]
                return db, taken
        return None

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            while (work := self._take()) is not None:
                db, taken = work
                group = [(a, done) for a, done in taken if done.set_running_or_notify_cancel()]
                try:
                    exams.submit_many(db, [attempt for attempt, _ in group])
                except Exception as exc:  # the database failed: each request answers a 500
                    log.exception("storing %d submissions failed", len(group))
                    for _, done in group:
                        done.set_exception(exc)
                    continue
                for _, done in group:
                    done.set_result(None)


INTAKE = Intake()
"""The worker's intake (one per process)."""
