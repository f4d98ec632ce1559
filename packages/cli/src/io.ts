/** Where a command writes; stdout and stderr of the process, or buffers in tests. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Colour only on a terminal, never when NO_COLOR is set. */
  colour: boolean;
  cwd: string;
}

export function processIo(): Io {
  return {
    out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
    colour: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
    cwd: process.cwd(),
  };
}
