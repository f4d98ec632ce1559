/** Errors the command reports to the user; each maps to exit code 2. */
import { formatIssue, type SpecIssue } from '@vhost-user/generator';

/** The command line was wrong: unknown option, missing argument. */
export class UsageError extends Error {}

/** A spec (or the approvals file) could not be loaded; carries every located problem. */
export class SpecLoadFailure extends Error {
  constructor(
    readonly what: string,
    readonly issues: SpecIssue[],
  ) {
    super(`${what} cannot be loaded (${issues.length} problem(s)):\n${issues.map(formatIssue).join('\n')}`);
  }
}
