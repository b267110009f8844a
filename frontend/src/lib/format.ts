// Small display helpers for timestamps and durations.

function parse(iso: string | null | undefined): Date | null {
	if (!iso) return null;
	const d = new Date(iso);
	return Number.isNaN(d.getTime()) ? null : d;
}

/** "16:09:15" for today, "3 Dec 16:09" otherwise, "—" for none. */
export function formatTime(iso: string | null | undefined, now = new Date()): string {
	const d = parse(iso);
	if (!d) return '—';
	if (d.toDateString() === now.toDateString()) {
		return d.toLocaleTimeString(undefined, { hour12: false });
	}
	return d.toLocaleString(undefined, {
		day: 'numeric',
		month: 'short',
		hour: '2-digit',
		minute: '2-digit',
		hour12: false
	});
}

/** Time of day with milliseconds, for log lines. */
export function formatLogTime(iso: string): string {
	const d = parse(iso);
	if (!d) return iso;
	const pad = (n: number, w = 2) => String(n).padStart(w, '0');
	return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** "850 ms", "12 s", "3 min 4 s", "2 h 5 min". */
export function formatDuration(ms: number): string {
	if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
	const s = Math.round(ms / 1000);
	if (s < 60) return `${s} s`;
	const m = Math.floor(s / 60);
	if (m < 60) return `${m} min ${s % 60} s`;
	return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** How long a deploy took (or has been running), or "—". */
export function deployDuration(
	started: string | null,
	finished: string | null,
	now = Date.now()
): string {
	const a = parse(started);
	if (!a) return '—';
	const b = parse(finished);
	return formatDuration((b ? b.getTime() : now) - a.getTime());
}
