/** ANSI colour, only when the output is a terminal. */
export interface Style {
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

const wrap = (on: boolean, code: number) => (s: string) => (on ? `\u001b[${code}m${s}\u001b[0m` : s);

export function style(colour: boolean): Style {
  return {
    red: wrap(colour, 31),
    green: wrap(colour, 32),
    yellow: wrap(colour, 33),
    dim: wrap(colour, 2),
    bold: wrap(colour, 1),
  };
}
