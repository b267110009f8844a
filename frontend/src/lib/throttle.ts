// Runs an async task at most once per interval, however often it is asked
// for. Requests arriving in a burst are batched into a single run; a
// request made while the task runs leads to one more run afterwards, so
// the last request is never lost.

export interface ThrottledTask {
	/** Ask for a run soon. */
	request(): void;
	/** Drop any pending run (on component teardown). */
	cancel(): void;
}

export function throttled(task: () => Promise<void>, intervalMs = 300): ThrottledTask {
	let timer: ReturnType<typeof setTimeout> | null = null;
	let running = false;
	let again = false;
	let lastStart = -Infinity;
	let cancelled = false;

	function schedule() {
		if (timer !== null || cancelled) return;
		// Wait a little even when idle, so a burst of events is one fetch.
		const wait = Math.max(50, lastStart + intervalMs - Date.now());
		timer = setTimeout(run, wait);
	}

	async function run() {
		timer = null;
		running = true;
		again = false;
		lastStart = Date.now();
		try {
			await task();
		} catch (err) {
			console.warn('background refresh failed', err);
		} finally {
			running = false;
			if (again) schedule();
		}
	}

	return {
		request() {
			if (running) again = true;
			else schedule();
		},
		cancel() {
			cancelled = true;
			if (timer !== null) clearTimeout(timer);
			timer = null;
		}
	};
}
