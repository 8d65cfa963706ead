import { TRIGGER_EVENT, type TriggerEvent } from "./triggerEvents.js"
import { DEFAULT_HISTORY_LIMIT, type Trigger, type TriggerRun } from "./triggerTypes.js"

/** Every trigger by id, in creation order. */
export type TriggerState = Map<string, Trigger>

/** The state before any event. */
export function initialTriggerState(): TriggerState {
  return new Map()
}

function withRun(trigger: Trigger, run: TriggerRun, historyLimit: number): Trigger {
  const history = [...trigger.history, run]
  return {
    ...trigger,
    history: history.length > historyLimit ? history.slice(history.length - historyLimit) : history,
    run_count: trigger.run_count + 1,
    // A scheduled fire consumes its slot whatever came of it, so a failing start is not retried in a loop.
    schedule_from:
      run.reason === "schedule" ? Math.max(trigger.schedule_from, run.started_at) : trigger.schedule_from,
  }
}

/**
 * Applies one event: the store's `evolve`. Total — an event about an unknown trigger or run changes
 * nothing — and deterministic, so the same events always give the same state (live, at reopen, in tests).
 *
 * The map is updated in place (rebuilding from a long log must not copy it per event), but every `Trigger`
 * and history array is replaced, never mutated: objects handed out before stay as they were.
 */
export function evolveTriggers(
  state: TriggerState,
  event: TriggerEvent,
  historyLimit = DEFAULT_HISTORY_LIMIT,
): TriggerState {
  switch (event.type) {
    case TRIGGER_EVENT.created: {
      const t = event.trigger
      state.set(t.id, {
        ...t,
        updated_at: t.created_at,
        schedule_from: t.created_at,
        run_count: 0,
        history: [],
      })
      return state
    }
    case TRIGGER_EVENT.updated: {
      const t = state.get(event.id)
      if (t === undefined) return state
      const c = event.changes
      // A new schedule, or waking a paused trigger, counts from now: slots missed meanwhile are not fired.
      const rearm = c.schedule !== undefined || (c.enabled === true && !t.enabled)
      state.set(event.id, {
        ...t,
        ...(c.name === undefined ? {} : { name: c.name }),
        ...(c.prompt === undefined ? {} : { prompt: c.prompt }),
        ...(c.project === undefined ? {} : { project: c.project }),
        ...(c.agent === undefined ? {} : { agent: c.agent }),
        ...(c.schedule === undefined ? {} : { schedule: c.schedule }),
        ...(c.enabled === undefined ? {} : { enabled: c.enabled }),
        updated_at: event.updated_at,
        schedule_from: rearm ? Math.max(t.schedule_from, event.updated_at) : t.schedule_from,
      })
      return state
    }
    case TRIGGER_EVENT.deleted:
      state.delete(event.id)
      return state
    case TRIGGER_EVENT.runStarted: {
      const t = state.get(event.id)
      if (t === undefined) return state
      const run: TriggerRun = {
        run_id: event.run_id,
        session_id: event.session_id,
        started_at: event.started_at,
        reason: event.reason,
        status: "running",
      }
      state.set(event.id, withRun(t, run, historyLimit))
      return state
    }
    case TRIGGER_EVENT.runNotStarted: {
      const t = state.get(event.id)
      if (t === undefined) return state
      const run: TriggerRun = {
        run_id: event.run_id,
        session_id: null,
        started_at: event.started_at,
        reason: event.reason,
        status: event.status,
        error: event.error,
      }
      state.set(event.id, withRun(t, run, historyLimit))
      return state
    }
    case TRIGGER_EVENT.slotClaimed: {
      const t = state.get(event.id)
      if (t === undefined) return state
      state.set(event.id, { ...t, schedule_from: Math.max(t.schedule_from, event.fired_at) })
      return state
    }
    case TRIGGER_EVENT.runFinished: {
      const t = state.get(event.id)
      const index = t?.history.findIndex((r) => r.run_id === event.run_id) ?? -1
      const run = t?.history[index]
      if (t === undefined || run === undefined || run.status !== "running") return state
      const history = [...t.history]
      history[index] = {
        ...run,
        status: event.status,
        finished_at: event.finished_at,
        ...(event.detail === undefined ? {} : { detail: event.detail }),
      }
      state.set(event.id, { ...t, history })
      return state
    }
  }
}

/** The state the events lead to. */
export function foldTriggerEvents(
  events: Iterable<TriggerEvent>,
  historyLimit = DEFAULT_HISTORY_LIMIT,
): TriggerState {
  let state = initialTriggerState()
  for (const event of events) state = evolveTriggers(state, event, historyLimit)
  return state
}
