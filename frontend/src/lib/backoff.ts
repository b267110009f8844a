// Exponential reconnect delay: 1 s, 2 s, 4 s, … capped at 30 s.

export const BACKOFF_START_MS = 1_000;
export const BACKOFF_MAX_MS = 30_000;

export class Backoff {
	#next = BACKOFF_START_MS;

	/** The delay to wait now; the following call returns twice as much. */
	take(): number {
		const delay = this.#next;
		this.#next = Math.min(this.#next * 2, BACKOFF_MAX_MS);
		return delay;
	}

	/** Back to the first delay, after a successful connection. */
	reset(): void {
		this.#next = BACKOFF_START_MS;
	}
}
