"""A background worker: does a unit of work every second, stops cleanly on SIGINT."""
import signal, sys, time

done = 0

def stop(signum, frame):
    print(f"stopping after {done} jobs")
    sys.exit(0)

signal.signal(signal.SIGINT, stop)
while True:
    done += 1
    print(f"job {done} done")
    time.sleep(1)
