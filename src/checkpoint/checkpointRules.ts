// The rules every CheckpointStore shares: which stream names are allowed, how a checkpoint is written and read back,
// and the errors for a conflicting or unreadable checkpoint. Stores differ only in where the bytes live.
import { CheckpointConflictError } from '../errors.js';
import { type Checkpoint, CheckpointSchema } from './CheckpointStore.js';

const CHECKPOINT_NAME = /^[a-z0-9-]{1,63}$/;
const MAX_ISSUES_SHOWN = 5;

/** Returns `name` when it is safe as a blob and file name (1-63 of a-z, 0-9, -); throws RangeError otherwise. */
export function checkCheckpointName(name: string): string {
  if (!CHECKPOINT_NAME.test(name)) {
    const shown = JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);
    throw new RangeError(`Checkpoint name ${shown} is not allowed: use 1-63 characters of a-z, 0-9 and -.`);
  }
  return name;
}

/** The stored bytes of a checkpoint: validated first, so no store ever writes a value its own load() would reject. */
export function serializeCheckpoint(checkpoint: Checkpoint): string {
  const parsed = CheckpointSchema.safeParse(checkpoint);
  if (!parsed.success) throw new TypeError(`Refusing to save an invalid checkpoint: ${describeIssues(parsed.error)}.`);
  return `${JSON.stringify(parsed.data, null, 2)}\n`;
}

/**
 * Checks a stored value read back from `where`. A stored value that is not a checkpoint is an error, never "missing":
 * treating it as missing would silently restart the stream from the initial lookback.
 */
export function validateStoredCheckpoint(where: string, value: unknown): Checkpoint {
  const parsed = CheckpointSchema.safeParse(value);
  if (!parsed.success) throw corruptCheckpointError(where, describeIssues(parsed.error));
  return parsed.data;
}

/** Parses the stored text of a checkpoint; see validateStoredCheckpoint. */
export function parseStoredCheckpoint(where: string, text: string): Checkpoint {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw corruptCheckpointError(where, 'it is not JSON');
  }
  return validateStoredCheckpoint(where, value);
}

/** The error for a conditional write that lost; `expectedEtag` undefined means the writer expected no checkpoint. */
export function checkpointConflict(where: string, expectedEtag: string | undefined): CheckpointConflictError {
  const what = expectedEtag === undefined ? 'was created by another run' : 'was advanced or replaced by another run';
  return new CheckpointConflictError(
    `Checkpoint ${where} ${what} since this run read it. ` +
      "This run stops without writing; the other run's progress stands.",
  );
}

function corruptCheckpointError(where: string, detail: string): Error {
  return new Error(
    `Checkpoint ${where} is not a valid checkpoint (${detail}). Fix it by hand or delete it; ` +
      'deleting it makes the next run start over from the initial lookback.',
  );
}

function describeIssues(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): string {
  const shown = error.issues
    .slice(0, MAX_ISSUES_SHOWN)
    .map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
  const more = error.issues.length > MAX_ISSUES_SHOWN ? `; and ${error.issues.length - MAX_ISSUES_SHOWN} more` : '';
  return shown.join('; ') + more;
}
