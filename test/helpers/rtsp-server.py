#!/usr/bin/python3
"""A real RTSP camera for tests: GStreamer's RTSP server (gir1.2-gst-rtsp-server-1.0) serving a live
30 fps test pattern as H.264 or MJPEG over RTP, with ground truth: every encoded frame's wall-clock
time as it enters the RTP payloader is logged as "n,epoch_us" (n from 0 for each client's stream).

usage: /usr/bin/python3 rtsp-server.py PORT h264|h264-gop3s|mjpeg LOGFILE [USER:PASSWORD]
The stream is rtsp://127.0.0.1:PORT/cam; with USER:PASSWORD, Basic authentication is required.
"""
import sys
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

PIPELINES = {
    # No B-frames (zerolatency), a keyframe every 15 frames (0.5 s): batches can be cut twice a second.
    "h264": "videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 "
    "! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 ! rtph264pay name=pay0 pt=96",
    # A camera whose keyframes are 3 s apart (many IP cameras default to a GOP of seconds).
    "h264-gop3s": "videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 "
    "! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=90 ! rtph264pay name=pay0 pt=96",
    # ffmpeg accepts RTP/JPEG only from I420 (4:2:0).
    "mjpeg": "videotestsrc is-live=true pattern=ball ! video/x-raw,format=I420,width=320,height=240,"
    "framerate=30/1 ! jpegenc ! rtpjpegpay name=pay0 pt=26",
}


def main() -> None:
    port, codec, log_path = sys.argv[1], sys.argv[2], sys.argv[3]
    credentials = sys.argv[4] if len(sys.argv) > 4 else None
    Gst.init(None)
    log = open(log_path, "w", buffering=1)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(port)
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(f"( {PIPELINES[codec]} )")
    factory.set_shared(False)

    def configure(_factory, media):
        pay = media.get_element().get_by_name("pay0")
        count = [0]

        def probe(_pad, _info):
            log.write(f"{count[0]},{time.time_ns() // 1000}\n")
            count[0] += 1
            return Gst.PadProbeReturn.OK

        pay.get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER, probe)

    factory.connect("media-configure", configure)
    if credentials:
        user, password = credentials.split(":", 1)
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "camera")
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
        server.set_auth(auth)
        permissions = GstRtspServer.RTSPPermissions()
        permissions.add_role_from_structure(
            Gst.Structure.new_from_string(
                "camera, media.factory.access=(boolean)true, media.factory.construct=(boolean)true"
            )
        )
        factory.set_permissions(permissions)
    server.get_mount_points().add_factory("/cam", factory)
    server.attach(None)
    print("listening", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
