// Follows one deploy's log over its own EventSource.
//
// Lines are handed over once each and in order (a reconnect may replay
// lines already seen; they are dropped by seq). On `end` the stream is
// closed for good, so the browser does not reconnect and replay it.

import { deployLogsUrl, type LogEnd, type LogLine } from './api';
import { Backoff } from './backoff';

export type LogStreamState = 'connecting' | 'open' | 'retrying' | 'ended';

export interface LogStreamHandlers {
	line(line: LogLine): void;
	end(end: LogEnd): void;
	state(state: LogStreamState): void;
}

/** Starts following; returns the function that stops. */
export function followLog(deployId: number, on: LogStreamHandlers): () => void {
	let source: EventSource | null = null;
	let retryTimer: ReturnType<typeof setTimeout> | null = null;
	let lastSeq = 0;
	let stopped = false;
	const backoff = new Backoff();

	function open() {
		on.state('connecting');
		const es = new EventSource(deployLogsUrl(deployId));
		source = es;

		es.onopen = () => {
			backoff.reset();
			on.state('open');
		};

		es.addEventListener('log', (ev) => {
			const line = parse<LogLine>(ev);
			if (!line || typeof line.seq !== 'number' || line.seq <= lastSeq) return;
			lastSeq = line.seq;
			on.line(line);
		});

		es.addEventListener('end', (ev) => {
			stop();
			on.state('ended');
			on.end(parse<LogEnd>(ev) ?? { status: 'failed', reason: 'malformed end event' });
		});

		es.onerror = () => {
			if (stopped) return;
			if (es.readyState !== EventSource.CLOSED) {
				on.state('retrying'); // the browser reconnects with Last-Event-ID
				return;
			}
			// The browser gave up: open a new stream after a pause. It replays
			// from the first line; seq-deduplication drops what we have.
			es.close();
			source = null;
			on.state('retrying');
			retryTimer = setTimeout(() => {
				retryTimer = null;
				if (!stopped) open();
			}, backoff.take());
		};
	}

	function stop() {
		stopped = true;
		if (retryTimer !== null) clearTimeout(retryTimer);
		retryTimer = null;
		source?.close();
		source = null;
	}

	open();
	return stop;
}

function parse<T>(ev: Event): T | null {
	try {
		return JSON.parse((ev as MessageEvent<string>).data) as T;
	} catch {
		console.warn('ignoring malformed log event', ev);
		return null;
	}
}
