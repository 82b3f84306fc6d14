import type { ChannelName } from '../../notify/notification.js';
import type { WorkflowRun } from './workflow-run.js';

/**
 * What taking a step did, with the run as it left it and the reason the decision log shows:
 * `next` goes on to the following step, `into` to the step the run's cursor now points at (a
 * branch's arm), `wait` resumes this step at `until`, `end` ends the run.
 */
export type StepResult =
  | {
      go: 'next';
      run: WorkflowRun;
      reason: string;
      channel?: ChannelName;
      /** Cleanup once the run's new state is written (a closed digest's record). */
      afterWrite?: () => Promise<unknown>;
    }
  | { go: 'into'; run: WorkflowRun; reason: string }
  | { go: 'wait'; run: WorkflowRun; reason: string; until: number }
  | { go: 'end'; run: WorkflowRun; reason: string };
