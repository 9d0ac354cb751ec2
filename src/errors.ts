// Errors that decide the CLI's exit status (README: 2 bad input, 3 harness error).

/** Bad input: a one-line message naming the file and field. Exit status 2. */
export class InputError extends Error {
  override readonly name = "InputError";
}

/** A stop_machine run that diverged or broke a rule (SPEC 6.6): a bug of the tool's. Exit status 3. */
export class SelfCheckError extends Error {
  override readonly name = "SelfCheckError";
}

/**
 * The oracle's membership search for a core passed its work cap (a family too large to search,
 * or a runaway): the run has no verdict. Exit status 3; in a campaign, a harness error of the cell.
 */
export class OracleGaveUp extends Error {
  override readonly name = "OracleGaveUp";
}
