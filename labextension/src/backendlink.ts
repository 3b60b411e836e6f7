/**
 * The sidebar's status line for a remote backend: a link to the backend's own UI (the KFP UI's runs
 * page, which the server names as `ui_url`), and a light that stays live by asking the server again
 * every STATUS_MS while the sidebar is shown (on kfp one status costs the KFP server 3 requests).
 */
import { IBackendStatus } from './status';

export const STATUS_MS = 10000;

/** Show (or update, or remove) the link to the backend's own UI after the status light. */
export function showBackendLink(statusNode: HTMLElement, status: IBackendStatus | null): void {
  let link = statusNode.querySelector<HTMLAnchorElement>('a.jp-mlops-backend-link');
  const url = status?.ui_url;
  if (!url) {
    link?.remove();
    return;
  }
  if (!link) {
    link = document.createElement('a');
    link.className = 'jp-mlops-backend-link';
    link.target = '_blank';
    link.rel = 'noopener noreferrer';
    statusNode.append(link);
  }
  link.href = url;
  link.textContent = `${status.backend === 'kfp' ? 'KFP UI' : 'UI'} \u2197`;
  link.title = `Open ${url} (the runs as the ${status.backend} backend's own UI shows them)`;
}
