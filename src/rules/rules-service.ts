import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import type { WindowSink } from '../pipeline/pipeline-service.js';
import type { StreamEvent } from '../model/event.js';
import type { WindowResult } from '../model/window-result.js';
import type { StateStore } from '../state/state-store.js';
import type { Timers } from '../state/timers.js';
import {
  createAudience,
  type ChurnAudience,
  type CohortAudience,
  type SegmentQuery,
} from './audience.js';
import { CountedFailure, createFire, type Route } from './fire.js';
import { ruleStatePrefix } from './firing.js';
import { createFollowGraph } from './follow-graph.js';
import type { KeyedTask } from './keyed-tasks.js';
import { createProjectQueue, type defaultProjectQueueOptions } from './project-queue.js';
import { createRuleIndex, type RuleIndex } from './rule-index.js';
import type { AudienceOf, RuleSpec } from './rule-spec.js';
import { createTriggers } from './triggers/index.js';
import type { CompiledTrigger } from './triggers/trigger.js';
import type { WorkflowRunner } from './workflows/workflow-runner.js';

type Followers = AudienceOf<'followers'>;

/**
 * Runs every project's notification rules: accepted events come in through `onEvents` (an
 * ingest listener) and window results through `windowSink`; each firing resolves its
 * audience and routes one intent per user. Timer handlers are registered here, before the
 * timers start, so a timer that came due while the server was down finds its rule.
 *
 * @example
 * const rules = createRulesService({ state, timers, segments, route: router.route, metrics, log }, { dev: specs });
 * ingest.onAccepted(rules.onEvents);
 * const pipeline = createPipelineService({ sinks: [hub.sink, rules.windowSink], metrics, log }, {});
 */
export function createRulesService(
  deps: {
    state: StateStore;
    timers: Timers;
    segments: SegmentQuery;
    /** Saved cohorts as audiences; absent, a cohort audience fails when its rule fires. */
    cohorts?: CohortAudience;
    /** Churn-risk audiences; absent, a churn audience fails when its rule fires. */
    churn?: ChurnAudience;
    route: Route;
    /** Runs rules' workflows; absent, a rule with `notification.steps` fails when it fires. */
    workflows?: Pick<WorkflowRunner, 'start' | 'engagementTasks'>;
    metrics?: Metrics;
    log: Logger;
  },
  rulesByProject: Record<string, readonly RuleSpec[]> = {},
  options: Partial<typeof defaultProjectQueueOptions> = {},
) {
  const { state, timers, segments, route, metrics, log } = deps;
  const rules = new Map<string, Map<string, { spec: RuleSpec; trigger: CompiledTrigger }>>();

  const fail = (reason: string, err: unknown, detail: object = {}) => {
    metrics?.ruleFailures.inc({ reason });
    log.warn({ err, reason, ...detail }, 'rule work failed');
  };
  const onTaskError = (err: unknown, key: string) => {
    if (!(err instanceof CountedFailure)) fail('state', err, { key });
  };

  const queue = createProjectQueue(
    {
      onError: (err, project) => fail('batch', err, { project }),
      onRefused: (project) => fail('overloaded', undefined, { project }),
      onTaskError,
    },
    options,
  );
  const follows = createFollowGraph(state);
  const audience = createAudience({
    follows,
    segments,
    ...(deps.cohorts ? { cohorts: deps.cohorts } : {}),
    ...(deps.churn ? { churn: deps.churn } : {}),
  });
  const { workflows } = deps;
  const fire = createFire({
    audience,
    route,
    ...(workflows ? { startRun: workflows.start } : {}),
    metrics,
    fail,
  });

  const nothing = Promise.resolve();
  const ruleOf = (project: string, name: string) => rules.get(project)?.get(name)?.spec;
  const triggers = createTriggers({
    state,
    timers,
    fire,
    ruleOf,
    onBadTime: (project, rule, event) =>
      fail('bad_time', undefined, { project, rule, event: event.id }),
  });

  /** A project's rules as ingest batches read them; rebuilt after a rule change. */
  const indexes = new Map<
    string,
    { index: RuleIndex; audiences: Followers[]; workflowRules: string[] }
  >();
  function indexOf(project: string) {
    let built = indexes.get(project);
    if (built) return built;
    const compiled = [...(rules.get(project)?.values() ?? [])];
    const audiences = compiled
      .map((r) => r.spec.audience)
      .filter((a): a is Followers => a.kind === 'followers');
    const workflowRules = compiled.filter((r) => r.spec.notification.steps).map((r) => r.spec.name);
    built = { index: createRuleIndex(compiled.map((r) => r.trigger)), audiences, workflowRules };
    indexes.set(project, built);
    return built;
  }

  /** Queues the batch's rule work; resolves once it has run (never rejects: failures are counted). */
  function onEvents(project: string, events: StreamEvent[]): Promise<void> {
    if (!rules.has(project)) return nothing;
    const { index, audiences, workflowRules } = indexOf(project);
    if (index.empty && audiences.length === 0 && workflowRules.length === 0) return nothing;
    // Tasks are built now, while the batch is as ingest saw it; they run in queue order.
    const edges = audiences.length > 0 ? follows.tasks(project, audiences, events) : [];
    const tasks = index.tasks(project, events);
    // Opens and clicks of notifications that workflows sent, for their `wait_for` steps.
    if (workflows && workflowRules.length > 0)
      tasks.push(...workflows.engagementTasks(project, workflowRules, events));
    if (edges.length + tasks.length === 0) return nothing;
    // Follows land before firings, so a rule fired by this batch sees its follows.
    return queue.pushBatch(project, { edges, tasks });
  }

  const windowSink: WindowSink = {
    write(project: string, results: readonly WindowResult[]): void {
      const tasks: KeyedTask[] = [];
      for (const rule of rules.get(project)?.values() ?? [])
        for (const result of results) {
          const task = rule.trigger.onWindow?.(project, result);
          if (task) tasks.push(task);
        }
      if (tasks.length === 0) return;
      void queue.pushBatch(project, { edges: [], tasks });
    },
  };

  function define(project: string, spec: RuleSpec): void {
    let own = rules.get(project);
    if (!own) rules.set(project, (own = new Map()));
    own.set(spec.name, { spec, trigger: triggers.compile(spec) });
    indexes.delete(project);
  }

  for (const [project, specs] of Object.entries(rulesByProject))
    for (const spec of specs) define(project, spec);

  return {
    name: 'rules',
    async start() {},
    async stop() {
      await queue.idle();
    },
    onEvents,
    windowSink,
    define,
    /**
     * Removes a rule: it fires no more from now, and its state (watches, pending absences) is
     * deleted after the work queued before, which may still write some; its timers fire as
     * no-ops. Answers without waiting for that backlog (under load, minutes of batches).
     */
    async remove(project: string, name: string): Promise<boolean> {
      if (!rules.get(project)?.delete(name)) return false;
      indexes.delete(project);
      const prefix = ruleStatePrefix(project, name);
      void queue
        .pushAlways(project, async () => {
          for (let page; (page = await state.list(prefix, { limit: 1000 })).length > 0;)
            for (const [key] of page) await state.del(key);
        })
        .catch(() => undefined); // counted by the queue's onError
      return true;
    },
    list: (project: string): RuleSpec[] =>
      [...(rules.get(project)?.values() ?? [])].map((r) => r.spec),
    get: ruleOf,
    /** Resolves once every queued batch has run (tests, shutdown). */
    idle: queue.idle,
  };
}

export type { Route };
export type RulesService = ReturnType<typeof createRulesService>;
