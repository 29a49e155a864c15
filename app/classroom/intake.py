"""Submissions taken in groups: each worker stores the submissions of its requests with one
thread of its own, all those that arrived while it was busy together (:func:`exams.submit_many`:
one read, one grading batch per task, one transaction and one insert for the group), while
the event loop goes on reading requests.

A submission alone is stored within milliseconds; under load the groups grow by themselves,
and each costs about what one submission used to: a thread per request, each with its own
transactions and its own grading, spent most of the server's time switching threads and
waiting on the database. A request that goes away before its group starts is dropped
(nothing stored); once stored, a submission stays stored (as a request whose answer was
lost).
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Future

from app.classroom import exams
from app.classroom.db import Database
from app.classroom.queues import DatabaseQueue
from solvers.grading.core import Grade

log = logging.getLogger("stepgrad.classroom")

MAX_GROUP = 256
"""Most submissions stored together."""

SETTLE = 0.002
"""Seconds the intake waits, again and again while submissions keep arriving, before it
takes a group: answered together, a group's clients send their next submissions together,
and without it the first would make a group of its own (each group costs about as much as
one submission alone)."""


def _store(db: Database, taken: list[tuple[exams.Attempt, Future[None]]]) -> None:
    """Store a group (those whose request still waits), then answer each request."""
    group = [(a, done) for a, done in taken if done.set_running_or_notify_cancel()]
    try:
        exams.submit_many(db, [attempt for attempt, _ in group])
    except Exception as exc:  # the database failed: each request answers a 500
        log.exception("storing %d submissions failed", len(group))
        for _, done in group:
            done.set_exception(exc)
        return
    for _, done in group:
        done.set_result(None)


_QUEUE: DatabaseQueue[tuple[exams.Attempt, Future[None]]] = DatabaseQueue(
    "intake", _store, MAX_GROUP, settle=SETTLE
)


async def submit(
    db: Database, exam_id: int, student_id: str, body: exams.SubmissionIn
) -> tuple[exams.Exam, exams.Submission, dict[str, Grade] | None]:
    """Store an attempt (:func:`exams.submit`) with the worker's intake thread, without
    holding up the event loop; the exam (detached), the stored submission and its grades
    (as models; None when graded later), or the error that refused it raised."""
    attempt = exams.Attempt(exam_id, student_id, body)
    done: Future[None] = Future()
    _QUEUE.add(db, [(attempt, done)])
    await asyncio.wrap_future(done)
    return (*attempt.result(), attempt.grades)
