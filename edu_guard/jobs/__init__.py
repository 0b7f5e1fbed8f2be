"""Jobs (后台任务): long work — imports today — run by a queue worker, not by the web
process, with a row every web process sees (:mod:`edu_guard.jobs.models`), the queue
(:mod:`edu_guard.jobs.queue`, Huey) and the rules (:mod:`edu_guard.jobs.services`)."""
