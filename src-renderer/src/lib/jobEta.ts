/** Time left of a sampling or evaluation job, from its progress since it started running (progress is linear in t). */
export function jobEtaSeconds(progress: number, secondsRunning: number): number | null {
  // Too early to say: the first percent includes loading the checkpoint and the backend.
  if (!(progress >= 0.02) || progress >= 1 || !(secondsRunning > 0)) return null;
  return (secondsRunning * (1 - progress)) / progress;
}
