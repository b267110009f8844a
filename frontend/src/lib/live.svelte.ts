// One shared EventSource on /api/events for the whole app.
//
// - The connection opens with the first subscriber and closes with the last.
// - While the browser retries on its own (readyState CONNECTING) the same
//   EventSource object is kept, so the browser sends Last-Event-ID and the
//   server can replay what was missed (or answer `resync`).
// - If the EventSource gives up (readyState CLOSED, e.g. after a non-200
//   answer) a new one is opened with a 1 s → 2 s → … → 30 s backoff. A new
//   object has no Last-Event-ID, so once it is open every `resync`
//   subscriber is told to reload its snapshot.

import { EVENTS_URL, type LiveEvents } from './api';
import { Backoff } from './backoff';

export type LiveEventName = keyof LiveEvents;
type Handler = (data: never) => void;

class LiveConnection {
	/** True while the event stream is open. */
	connected = $state(false);

	#source: EventSource | null = null;
	#handlers = new Map<string, Set<Handler>>();
	#listening = new Set<string>();
	#retryTimer: ReturnType<typeof setTimeout> | null = null;
	#backoff = new Backoff();
	#reopened = false;

	/**
	 * Calls `handler` with the parsed JSON of each `name` event.
	 * Returns the function that unsubscribes it.
	 */
	subscribe<K extends LiveEventName>(name: K, handler: (data: LiveEvents[K]) => void): () => void {
		let set = this.#handlers.get(name);
		if (!set) {
			set = new Set();
			this.#handlers.set(name, set);
		}
		const h = handler as Handler;
		set.add(h);
		this.#listen(name);
		this.#open();

		return () => {
			set.delete(h);
			if (set.size === 0) this.#handlers.delete(name);
			if (this.#handlers.size === 0) this.#close();
		};
	}

	/** Shorthand: reload a snapshot whenever the server asks for it. */
	onResync(reload: () => void): () => void {
		return this.subscribe('resync', reload);
	}

	#open() {
		if (this.#source || this.#retryTimer !== null) return;

		const source = new EventSource(EVENTS_URL);
		this.#source = source;
		this.#listening.clear();
		for (const name of this.#handlers.keys()) this.#listen(name);

		source.onopen = () => {
			this.connected = true;
			this.#backoff.reset();
			if (this.#reopened) {
				// A fresh EventSource cannot resume: treat it like a resync.
				this.#reopened = false;
				this.#dispatch('resync', {});
			}
		};

		source.onerror = () => {
			this.connected = false;
			if (source.readyState !== EventSource.CLOSED) return; // browser retries itself
			source.close();
			this.#source = null;
			const delay = this.#backoff.take();
			this.#retryTimer = setTimeout(() => {
				this.#retryTimer = null;
				this.#reopened = true;
				if (this.#handlers.size > 0) this.#open();
			}, delay);
		};
	}

	#close() {
		if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
		this.#retryTimer = null;
		this.#source?.close();
		this.#source = null;
		this.#listening.clear();
		this.#reopened = false;
		this.#backoff.reset();
		this.connected = false;
	}

	#listen(name: string) {
		if (!this.#source || this.#listening.has(name)) return;
		this.#listening.add(name);
		this.#source.addEventListener(name, (ev) => {
			let data: unknown;
			try {
				data = JSON.parse((ev as MessageEvent<string>).data || '{}');
			} catch {
				console.warn(`ignoring malformed ${name} event`, ev);
				return;
			}
			this.#dispatch(name, data);
		});
	}

	#dispatch(name: string, data: unknown) {
		for (const handler of [...(this.#handlers.get(name) ?? [])]) {
			try {
				handler(data as never);
			} catch (err) {
				console.error(`${name} handler failed`, err);
			}
		}
	}
}

export const live = new LiveConnection();
