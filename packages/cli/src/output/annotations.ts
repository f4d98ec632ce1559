/** GitHub Actions workflow commands: annotations shown on the pull request's changed lines. */
import type { SourceLocation } from '@vhost-user/generator';

function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** `::error file=...,line=...,col=...,title=...::message`; no file for places outside the work tree. */
export function annotation(
  level: 'error' | 'warning' | 'notice',
  title: string,
  message: string,
  loc: SourceLocation | undefined,
): string {
  const props: string[] = [];
  if (loc && !loc.file.includes(':'))
    props.push(`file=${escapeProperty(loc.file)}`, `line=${loc.line}`, `col=${loc.column}`);
  props.push(`title=${escapeProperty(title)}`);
  const where = loc && loc.file.includes(':') ? `${loc.file}:${loc.line}: ` : '';
  return `::${level} ${props.join(',')}::${escapeData(where + message)}`;
}
