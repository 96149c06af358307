/** Writes a report page to a file; the line it returns tells the user where and how big. */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { MeshCertWatchError, describeError } from '../../core/model/errors.js';
import { renderReportHtml, type ReportData } from './html-report.js';

export async function writeReport(file: string, data: ReportData): Promise<string> {
  const html = renderReportHtml(data);
  const path = resolve(file);
  try {
    await writeFile(path, html, 'utf8');
  } catch (error) {
    throw new MeshCertWatchError('USAGE', `--report: cannot write ${path}: ${describeError(error)}`, { cause: error });
  }
  return `report written to ${path} (${Math.round(Buffer.byteLength(html) / 1024)} KiB, ${data.charts.length} charts, ${data.slack.length} Slack messages; opens offline)\n`;
}
