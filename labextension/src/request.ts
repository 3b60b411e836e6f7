/**
 * One way to talk to the jupyter-mlops server extension: `requestAPI` joins the
 * path under `<base_url>/mlops/api/` and goes through `ServerConnection`, which
 * adds the token, the XSRF header and the base URL the user's server runs under.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** Where the server extension's REST API lives, relative to the base URL. */
export const API_NAMESPACE = 'mlops/api';

/**
 * Call `mlops/api/<endPoint>` and return the parsed JSON body.
 *
 * A network failure rejects with `ServerConnection.NetworkError`; an HTTP
 * error rejects with `ServerConnection.ResponseError` carrying the server's
 * `{"message": ...}` text, so callers can show what went wrong.
 */
export async function requestAPI<T>(
  endPoint: string,
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, API_NAMESPACE, endPoint);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new ServerConnection.NetworkError(error as TypeError);
  }

  const text = await response.text();
  let body: unknown = null;
  if (text.length > 0) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  if (!response.ok) {
    throw new ServerConnection.ResponseError(response, errorMessage(body, response));
  }
  return body as T;
}

function errorMessage(body: unknown, response: Response): string {
  if (typeof body === 'object' && body !== null && 'message' in body) {
    return String((body as { message: unknown }).message);
  }
  if (typeof body === 'string' && body.length > 0) {
    return body;
  }
  return `${response.status} ${response.statusText}`;
}
