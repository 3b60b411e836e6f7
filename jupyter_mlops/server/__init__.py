"""The jupyter-server extension of jupyter-mlops: REST JSON under `<base_url>/mlops/api/`.

`jupyter_mlops._jupyter_server_extension_points` points the server at `app.MlopsExtensionApp`;
`jupyter-config/server-config/jupyter_mlops.json` enables it on install.
"""
