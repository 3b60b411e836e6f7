/**
 * The backend status the server reports at `GET mlops/api/status`.
 */
import { ServerConnection } from '@jupyterlab/services';

import { IStateStyle } from './api';
import { requestAPI } from './request';

export interface IBackendStatus {
  /** Name of the backend the server runs pipelines on, e.g. `local` or `kfp`. */
  backend: string;
  /** Whether the server could reach that backend. */
  reachable: boolean;
  /** The jupyter-mlops version of the server extension. */
  version: string;
  /** Why the backend is unreachable, when the server knows. */
  message?: string;
  /** The backend's own UI (the KFP UI's runs page), when it has one. */
  ui_url?: string;
  /** How each run and step state looks (jupyter_mlops/render/style.py's table). */
  state_styles?: Record<string, IStateStyle>;
}

/** Fetch the status, checking its shape so a wrong answer is an error, not a blank view. */
export async function fetchStatus(
  settings?: ServerConnection.ISettings
): Promise<IBackendStatus> {
  const body = await requestAPI<unknown>('status', { method: 'GET' }, settings);
  if (
    typeof body !== 'object' ||
    body === null ||
    typeof (body as IBackendStatus).backend !== 'string' ||
    typeof (body as IBackendStatus).reachable !== 'boolean' ||
    typeof (body as IBackendStatus).version !== 'string'
  ) {
    throw new Error(`Unexpected answer from mlops/api/status: ${JSON.stringify(body)}`);
  }
  return body as IBackendStatus;
}
