/** Where the nest flows write what a person reads; the CLI passes its stdout. */
export interface Output {
  write(text: string): void;
}
