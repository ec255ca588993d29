"""Runs on Dask distributed: a LocalCluster of this machine, or a running scheduler.

Dask is an optional dependency (``salesim[dask]``), imported only when a
command is given ``--scheduler``. A scheduler is asked who it is before
anything else happens (``check_scheduler``), so a wrong address is one line
and nothing is written.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sim.parallel import BackendSetupError
from sim.parallel.pool import Outcome, Runs, ignore_sigint, sigint_deferred


class DaskRuns(Runs):
    """Runs on Dask distributed: a LocalCluster or a running scheduler."""

    def __init__(
        self, work: Callable[[Any], Any], workers: int, scheduler: str, connect_seconds: float
    ):
        try:
            from distributed import Client
        except ImportError:
            raise BackendSetupError(
                "--scheduler needs Dask: pip install 'salesim[dask]' (on every worker too)"
            ) from None
        super().__init__(work)
        self.cluster = None
        self.client = None
        self.futures: list[Any] = []
        self.by_key: dict[str, Any] = {}
        if scheduler == "local":
            self._start_local_cluster(workers)
            return
        check_scheduler(scheduler, connect_seconds)
        try:
            self.client = Client(scheduler, timeout=f"{connect_seconds}s")
        except (OSError, TimeoutError) as exc:
            raise BackendSetupError(_no_scheduler(scheduler, connect_seconds, exc)) from None

    def _start_local_cluster(self, workers: int) -> None:
        import logging

        from distributed import Client, LocalCluster

        try:
            # Ctrl-C reaches the whole terminal group; only this process must act on
            # it (cancel, close the cluster), so the cluster's processes ignore it.
            with sigint_deferred():
                self.cluster = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
                self.client = Client(self.cluster)
                self.client.run(ignore_sigint, nanny=True)
                self.client.run(ignore_sigint)
        except (OSError, TimeoutError) as exc:
            self.close()
            problem = f"--scheduler local: cannot start a Dask cluster ({exc})"
            raise BackendSetupError(problem) from None

    def submit(self, tasks: Sequence[Any]) -> None:
        """Send a round of runs to the scheduler."""
        assert self.client is not None
        tasks = list(tasks)
        # Keys name the run and its place in the round (compare's two passes share
        # labels), plus a token so that two rounds or two commands on one cluster
        # never share results.
        token = os.urandom(4).hex()
        keys = [f"salesim-{t.label.replace('/', '-')}-{i}-{token}" for i, t in enumerate(tasks)]
        self.futures = self.client.map(self.work, tasks, key=keys, pure=False)
        self.by_key = {f.key: t for f, t in zip(self.futures, tasks, strict=True)}

    def __iter__(self) -> Iterator[Outcome]:
        from distributed import as_completed

        for future in as_completed(self.futures):
            try:
                result: Any = future.result()
            except Exception as exc:
                result = exc
            yield self.by_key[future.key], result
            future.release()
        self.futures = []

    def close(self) -> None:
        """Cancel what is left, disconnect, and stop a LocalCluster."""
        if self.client is not None:
            self.client.cancel(self.futures)
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def check_scheduler(address: str, seconds: float) -> None:
    """Ask ``address`` who it is, as a Dask client does first, and accept only a Dask scheduler.

    A plain ``Client(address)`` can hang on a server that accepts and never
    answers, or misread another protocol's reply (an HTTP server's); this asks
    Dask's ``identity`` and gives up after ``seconds`` whatever happens.

    Raises:
        BackendSetupError: nothing answered in time, or not a Dask scheduler.
    """
    import asyncio
    import threading

    from distributed.comm import connect
    from distributed.security import Security

    async def identity() -> Any:
        # connect() retries a refused connection until its own timeout, which is left
        # longer than the one around the whole exchange, so that one always decides.
        args = Security().get_connection_args("client")
        comm = await connect(address, timeout=seconds + 1, **args)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    answer: dict[str, Any] = {}

    def ask() -> None:
        try:
            answer["reply"] = asyncio.run(asyncio.wait_for(identity(), seconds))
        except Exception as exc:
            answer["error"] = exc

    # In a thread of its own: asyncio.run cannot run where an event loop runs (a notebook).
    thread = threading.Thread(target=ask, name="salesim-scheduler-check", daemon=True)
    thread.start()
    thread.join(seconds + 5)
    reply = answer.get("reply")
    if isinstance(reply, dict) and reply.get("type") == "Scheduler":
        return
    if isinstance(reply, dict) and reply.get("type"):
        reason: str | BaseException = f"a Dask {reply['type']} answered, not a scheduler"
    else:
        reason = answer.get("error") or TimeoutError()
    raise BackendSetupError(_no_scheduler(address, seconds, reason))


def _no_scheduler(address: str, seconds: float, reason: str | BaseException) -> str:
    """The one line saying that no Dask scheduler answered at ``address``."""
    if isinstance(reason, TimeoutError) and not str(reason):
        reason = "no reply to Dask's handshake: is a scheduler running at this address and port?"
    elif isinstance(reason, BaseException):
        reason = f"{type(reason).__name__}: {reason}".rstrip(": ")
    return f"--scheduler: {address}: no Dask scheduler answered within {seconds:g} s ({reason})"
