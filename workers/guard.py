"""What a worker agrees to run, and what it keeps of a failure.

Jobs travel through Redis as JSON (``core.queue.SERIALIZER``), never pickles, so a job
planted in Redis cannot smuggle code in its data. A JSON job still names the function to
call, so the worker runs only the service's own job functions, with plain ids as
arguments and no callbacks; anything else is dropped unrun and logged.

A failed job's traceback is kept in Redis for two weeks (the failed-work page shows it)
and logged. Exception messages can quote what they choked on, a person's message
included, so only the exception's type and the stack (files, lines, functions) are kept;
the one exception is a send error, whose message the service writes itself from
Twilio's status and error code ("twilio 400 21211").
"""

from __future__ import annotations

import logging
import sys
import traceback
from types import TracebackType
from typing import Any

from rq.job import Job
from rq.queue import Queue
from rq.worker import SimpleWorker

from core.exceptions import SendError

log = logging.getLogger(__name__)

def _job_functions() -> frozenset[str]:
    """Every public function defined in workers.jobs, the module that holds the service's jobs."""
    import inspect

    from workers import jobs

    return frozenset(
        f"{jobs.__name__}.{name}"
        for name, fn in inspect.getmembers(jobs, inspect.isfunction)
        if fn.__module__ == jobs.__name__ and not name.startswith("_")
    )


JOB_FUNCTIONS = _job_functions()


def redacted_traceback(etype: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> str:
    """The stack and the exception's type, without its message (which may quote personal data)."""
    frames = "".join(traceback.format_list(traceback.extract_tb(tb))) if tb is not None else ""
    name = f"{etype.__module__}.{etype.__qualname__}" if etype is not None else "unknown"
    if isinstance(value, SendError):
        message = str(value)[:200]
    else:
        message = "(message withheld: it may quote personal data)"
    return f"Traceback (most recent call last):\n{frames}{name}: {message}\n"


class GuardedWorker(SimpleWorker):
    """A non-forking RQ worker that runs only the service's jobs and keeps only redacted tracebacks."""

    allowed_jobs: frozenset[str] = JOB_FUNCTIONS

    def refusal(self, job: Job) -> str | None:
        try:
            func_name, args, kwargs = job.func_name, job.args, job.kwargs
        except Exception:  # data that does not decode (a pickle, say) is refused like any other
            return "undecodable"
        if func_name not in self.allowed_jobs:
            return "unknown function"
        if kwargs or not all(isinstance(a, (int, str)) for a in args):
            return "arguments are not ids"
        if job._success_callback_name or job._failure_callback_name or job._stopped_callback_name:
            return "callbacks"
        return None

    def perform_job(self, job: Job, queue: Queue) -> bool:
        reason = self.refusal(job)
        if reason is not None:
            log.error("worker.job_refused", extra={"job_id": job.id, "queue": queue.name, "reason": reason})
            job.delete(remove_from_queue=True)
            return False
        return super().perform_job(job, queue)

    def handle_job_failure(
        self, job: Job, queue: Queue, started_job_registry: Any = None, exc_string: str = ""
    ) -> None:
        etype, value, tb = sys.exc_info()
        if etype is not None:
            exc_string = redacted_traceback(etype, value, tb)
        elif exc_string:
            exc_string = "Traceback withheld (it may quote personal data)\n"
        super().handle_job_failure(job, queue, started_job_registry=started_job_registry, exc_string=exc_string)

    def handle_exception(self, job: Job, *exc_info: Any) -> None:
        etype, value, tb = exc_info if len(exc_info) == 3 else (None, None, None)
        log.error(
            "worker.job_failed",
            extra={"job_id": job.id, "func": job.func_name, "traceback": redacted_traceback(etype, value, tb)},
        )
