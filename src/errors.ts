// Errors that decide the CLI's exit status (README: 2 bad input, 3 harness error).

/** Bad input: a one-line message naming the file and field. Exit status 2. */
export class InputError extends Error {
  override readonly name = "InputError";
}

/** A stop_machine run that diverged or broke a rule (SPEC 6.6): a bug of the tool's. Exit status 3. */
export class SelfCheckError extends Error {
  override readonly name = "SelfCheckError";
}
