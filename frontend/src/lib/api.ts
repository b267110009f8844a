// Typed access to the Docker Watcher HTTP API.
//
// Every JSON answer is wrapped in an envelope
// `{ success, data, error }`; the helpers here unwrap it and throw an
// `ApiError` carrying the server's own message when something goes wrong.

export type DeployStatus =
	| 'queued'
	| 'running'
	| 'succeeded'
	| 'failed'
	| 'interrupted'
	| 'waiting_approval'
	| 'rejected'
	| 'skipped';
export type InstanceStatus = 'starting' | 'running' | 'stopped' | 'removed' | 'failed';

/** A stage selects tags by exactly one of a glob, a regular expression or a version constraint. */
export interface Stage {
	id: number;
	name: string;
	tag_pattern: string | null;
	tag_regex: string | null;
	tag_semver: string | null;
	include_prerelease: boolean;
	auto_deploy: boolean;
	max_instances: number;
	promote_from: string | null;
	subdomain: string | null;
	watch_digest: boolean;
	poll: boolean;
}

/** The stage's tag rule as a person reads it. */
export function tagRule(stage: Stage): string {
	if (stage.tag_pattern !== null) return stage.tag_pattern;
	if (stage.tag_regex !== null) return `/${stage.tag_regex}/`;
	if (stage.tag_semver !== null) {
		return stage.include_prerelease ? `${stage.tag_semver} (pre-releases too)` : stage.tag_semver;
	}
	return '(none)';
}

export interface Instance {
	id: number;
	stage: string;
	tag: string;
	status: InstanceStatus;
	container_name: string;
	address: string | null;
	/** The domain the proxy routes to it, when routing is configured. */
	domain: string | null;
	digest: string | null;
	deploy_id: number;
	created_at: string;
}

export interface Project {
	id: number;
	name: string;
	image: string;
	port: number | null;
	stages: Stage[];
	/** Instances that are not removed. */
	instances: Instance[];
}

export interface Deploy {
	id: number;
	project: string;
	stage: string;
	tag: string;
	image: string;
	status: DeployStatus;
	reason: string | null;
	/** "webhook", "poll", "manual", … */
	trigger: string;
	created_at: string;
	started_at: string | null;
	finished_at: string | null;
	/** Who approved it (`api <address>`), for a deploy that waited for approval. */
	approved_by?: string | null;
	rejected_by?: string | null;
	/** The deploy a promotion or rollback repeats. */
	source_deploy_id?: number | null;
	/** The steps it went through (one deploy only, not in lists). */
	steps?: DeployStep[] | null;
}

export interface DeployStep {
	name: string;
	started_at: string;
	duration_ms: number;
	outcome: 'ok' | 'failed';
}

export interface Envelope<T> {
	success: boolean;
	data: T | null;
	error: string | null;
}

export interface QueuedDeploy {
	id: number;
	project: string;
	stage: string;
	tag: string;
	/** `queued`, or `waiting_approval` where the stage deploys only approved tags. */
	status: DeployStatus;
}

export interface WebhookResult {
	deploys: QueuedDeploy[];
	reason: string | null;
}

// ---- Server-sent events -------------------------------------------------

/** `event: deploy_queued` on /api/events. */
export interface DeployQueuedEvent {
	id: number;
	type: 'deploy_queued';
	deploy_id: number;
	project: string;
	stage: string;
	tag: string;
}

/** `event: approval_requested` on /api/events: a deploy waits for a person's decision. */
export interface ApprovalRequestedEvent {
	id: number;
	type: 'approval_requested';
	deploy_id: number;
	project: string;
	stage: string;
	tag: string;
	digest: string | null;
	trigger: string;
}

/** `event: deploy_status` on /api/events. */
export interface DeployStatusEvent {
	id: number;
	type: 'deploy_status';
	deploy_id: number;
	project: string;
	stage: string;
	tag: string;
	status: DeployStatus;
	reason: string | null;
}

/** `event: instance_status` on /api/events. */
export interface InstanceStatusEvent {
	id: number;
	type: 'instance_status';
	instance_id: number;
	project: string;
	stage: string;
	tag: string;
	status: InstanceStatus;
	container_name: string;
	address: string | null;
}

/** Payload type of each named event on /api/events. */
export interface LiveEvents {
	deploy_queued: DeployQueuedEvent;
	approval_requested: ApprovalRequestedEvent;
	deploy_status: DeployStatusEvent;
	instance_status: InstanceStatusEvent;
	deploy_log: Record<string, unknown>;
	resync: Record<string, never>;
}

/** `event: log` on /api/deploys/{id}/logs. */
export interface LogLine {
	seq: number;
	at: string;
	message: string;
}

/** `event: end` on /api/deploys/{id}/logs. */
export interface LogEnd {
	status: DeployStatus;
	reason: string | null;
}

// ---- Errors and requests ------------------------------------------------

export class ApiError extends Error {
	/** HTTP status, or 0 when the server could not be reached. */
	readonly status: number;

	constructor(message: string, status: number) {
		super(message);
		this.name = 'ApiError';
		this.status = status;
	}

	get notFound(): boolean {
		return this.status === 404;
	}
}

/**
 * Turns a failed response into an `ApiError`, preferring the `error`
 * message of the server's envelope over the bare HTTP status.
 */
export async function handleError(res: Response): Promise<never> {
	let message = `${res.status} ${res.statusText}`.trim();
	try {
		const body = (await res.json()) as Partial<Envelope<unknown>>;
		if (typeof body.error === 'string' && body.error !== '') message = body.error;
	} catch {
		// Not JSON (a proxy error page, say): keep the HTTP status.
	}
	throw new ApiError(message || 'request failed', res.status);
}

/** A readable message for anything caught from the helpers below. */
export function errorMessage(err: unknown): string {
	if (err instanceof Error) return err.message;
	return String(err);
}

async function request<T>(path: string, init?: RequestInit): Promise<T> {
	let res: Response;
	try {
		res = await fetch(path, {
			...init,
			headers: { Accept: 'application/json', ...init?.headers }
		});
	} catch {
		throw new ApiError('Cannot reach the Docker Watcher server', 0);
	}
	if (!res.ok) return handleError(res);

	let body: Envelope<T>;
	try {
		body = (await res.json()) as Envelope<T>;
	} catch {
		throw new ApiError(`Unexpected answer from ${path}`, res.status);
	}
	if (!body.success || body.data === null) {
		throw new ApiError(body.error || `Request to ${path} failed`, res.status);
	}
	return body.data;
}

export function listProjects(): Promise<Project[]> {
	return request<Project[]>('/api/projects');
}

export function listDeploys(limit = 50): Promise<Deploy[]> {
	return request<Deploy[]>(`/api/deploys?limit=${limit}`);
}

export function getDeploy(id: number): Promise<Deploy> {
	return request<Deploy>(`/api/deploys/${id}`);
}

/** Queues a deploy of `tag` to a stage (a promotion when the stage has `promote_from`). */
export function deployTag(project: string, stage: string, tag: string): Promise<QueuedDeploy> {
	return request<QueuedDeploy>(
		`/api/projects/${encodeURIComponent(project)}/stages/${encodeURIComponent(stage)}/deploy`,
		{
			method: 'POST',
			headers: { 'Content-Type': 'application/json' },
			body: JSON.stringify({ tag })
		}
	);
}

/** Queues a rollback of a stage to its previous healthy deploy. */
export function rollbackStage(project: string, stage: string): Promise<QueuedDeploy> {
	return request<QueuedDeploy>(
		`/api/projects/${encodeURIComponent(project)}/stages/${encodeURIComponent(stage)}/rollback`,
		{ method: 'POST' }
	);
}

export type InstanceAction = 'stop' | 'start' | 'restart' | 'remove';

/** Stops, starts, restarts or removes an instance. */
export function actOnInstance(id: number, action: InstanceAction): Promise<unknown> {
	return action === 'remove'
		? request<unknown>(`/api/instances/${id}`, { method: 'DELETE' })
		: request<unknown>(`/api/instances/${id}/${action}`, { method: 'POST' });
}

/** Approves (the deploy is queued) or rejects a deploy waiting for approval. */
export function decideDeploy(id: number, decision: 'approve' | 'reject'): Promise<Deploy> {
	return request<Deploy>(`/api/deploys/${id}/${decision}`, { method: 'POST' });
}

export function deployLogsUrl(id: number): string {
	return `/api/deploys/${id}/logs`;
}

export const EVENTS_URL = '/api/events';
