/**
 * A service started by a launcher (npm start, the bench and test harness: REVIEWFLOW_LAUNCHER_PID)
 * runs in a process group of its own, so that Ctrl-C reaches only the launcher, which stops the
 * services in order. A launcher killed outright (kill -9, an out-of-memory kill) stops nothing:
 * its services ran on, orphaned, holding their ports, and the next npm start found them in use.
 * Now a service whose launcher is gone stops as on SIGTERM (`stop`). No dependencies: the
 * emulator, which imports nothing else of lib/, uses it too.
 */
export function whenLauncherGone(stop: () => void): void {
  const launcher = Number(process.env.REVIEWFLOW_LAUNCHER_PID);
  if (!Number.isInteger(launcher) || launcher <= 0) return;
  // the launcher reads this process's output: once it is gone a write fails with EPIPE, which
  // would end the process there and then, before its stop could drain anything
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code !== "EPIPE") throw err;
    });
  }
  whenParentIsNot(launcher, stop);
}

/** Calls `stop` once this process's parent is no longer `parent` (it died: the process was re-parented). */
export function whenParentIsNot(parent: number, stop: () => void): void {
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    stop();
  }, 500);
  timer.unref();
}
