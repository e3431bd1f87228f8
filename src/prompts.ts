/** A validation for a typed answer: true, or the sentence shown under the prompt. */
export type Validate = (value: string) => true | string

/**
 * The questions a module may ask a person at a terminal. The command seam hands modules an
 * implementation only when someone can answer (stdin is a terminal); without one they get none,
 * so a module never waits for input that cannot come and names the flag to use instead.
 */
export interface Prompts {
  password(message: string, validate?: Validate): Promise<string>
  input(message: string, defaultValue?: string, validate?: Validate): Promise<string>
  confirm(message: string, defaultValue?: boolean): Promise<boolean>
  /** Tells the person answering why a question comes again (on stderr, beside the prompts). */
  tell(message: string): void
}
