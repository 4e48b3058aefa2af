"""The on-disk contract between the server extension and the kernel extension (standard library only).

The two processes never talk directly: the kernel side writes snapshots (a folder per notebook,
a manifest per snapshot) and a heartbeat file; the server side reads them. Everything both sides
must agree on about those files lives here.
"""
