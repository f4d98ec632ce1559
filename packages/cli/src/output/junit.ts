/** JUnit XML: one test case per rule, failed by each problem that rule found. */
export interface JunitCase {
  name: string;
  classname: string;
  failures: { message: string; body: string }[];
  /** Why the case did not run (JUnit `<skipped>`). */
  skipped?: string;
  /** Lines reported without failing the case (warnings). */
  output?: string[];
}

export function escapeXml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c,
  );
}

export function junit(suite: string, cases: JunitCase[]): string {
  const failures = cases.reduce((n, c) => n + (c.failures.length > 0 ? 1 : 0), 0);
  const skipped = cases.reduce((n, c) => n + (c.failures.length === 0 && c.skipped !== undefined ? 1 : 0), 0);
  const counts = `tests="${cases.length}" failures="${failures}"${skipped ? ` skipped="${skipped}"` : ''}`;
  const lines = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="${escapeXml(suite)}" ${counts}>`,
    `  <testsuite name="${escapeXml(suite)}" ${counts}>`,
  ];
  for (const c of cases) {
    const open = `    <testcase name="${escapeXml(c.name)}" classname="${escapeXml(c.classname)}"`;
    if (c.failures.length === 0 && c.skipped !== undefined) {
      lines.push(`${open}>`, `      <skipped message="${escapeXml(c.skipped)}"/>`, '    </testcase>');
      continue;
    }
    const output = c.output ?? [];
    if (c.failures.length === 0 && output.length === 0) {
      lines.push(`${open}/>`);
      continue;
    }
    lines.push(`${open}>`);
    for (const f of c.failures)
      lines.push(`      <failure message="${escapeXml(f.message)}">${escapeXml(f.body)}</failure>`);
    if (output.length > 0) lines.push(`      <system-out>${escapeXml(output.join('\n'))}</system-out>`);
    lines.push('    </testcase>');
  }
  lines.push('  </testsuite>', '</testsuites>');
  return `${lines.join('\n')}\n`;
}
