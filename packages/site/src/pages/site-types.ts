/** What every page knows about the site: its versions and diffs. */
import type { TocEntry } from '../plugins/rehype-section-numbers.js';

export interface VersionInfo {
  /** The folder: `latest` for the draft, else the release number. */
  slug: string;
  /** `1.2`, or `draft`. */
  version: string;
  label: string;
  summary: string;
  corresponds: Record<string, string>;
  date?: string;
}

export interface ChapterInfo {
  page: string;
  number: number;
  title: string;
  toc: TocEntry[];
}

export interface DiffInfo {
  from: VersionInfo;
  to: VersionInfo;
  page: string;
}

export interface SiteInfo {
  title: string;
  /** Newest first: the draft, then releases from newest to oldest. */
  versions: VersionInfo[];
  diffs: DiffInfo[];
  /** Page names per version slug, for the version switcher. */
  pagesOf: Map<string, Set<string>>;
}
