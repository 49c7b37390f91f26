/** Words for a run whose newest checkpoint is damaged (RunDetail.checkpointDamage). */
import type { CheckpointDamage } from '../../../../src-shared/protocol';

/** The label of the button that resumes from the newest whole checkpoint, naming what is lost. */
export function resumeFromGoodLabel(d: CheckpointDamage): string {
  const [from, to] = d.lostSteps;
  return `Resume from step ${d.goodStep ?? 0} (steps ${from}…${to} are lost)`;
}

/** What is wrong, in one line above the button. */
export function damageText(d: CheckpointDamage): string {
  const name = d.file.split(/[\\/]/).pop();
  return `The latest checkpoint (${name}, step ${d.step}) cannot be resumed from: ${d.problem}. ${
    d.goodStep === null ? 'No earlier checkpoint is whole.' : `The newest whole checkpoint is at step ${d.goodStep}.`
  }`;
}
