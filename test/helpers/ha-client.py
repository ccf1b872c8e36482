#!/usr/bin/python3
"""Home Assistant's MQTT client, played by its own library (Debian's python3-paho-mqtt) over MQTT 5,
for labx's tests. It connects as HA does (clean start, MQTT 5), subscribes to the discovery prefix,
and then to what the discovery names. Each thing it hears or suffers is one JSON line on stdout;
each JSON line on stdin is something to publish: {"topic": ..., "payload": ..., "retain": false}.
A protocol error in the network loop is reported as {"event": "error"} instead of killing a thread,
so the test can say that none happened.

    /usr/bin/python3 ha-client.py HOST PORT [USERNAME PASSWORD]
"""
import json
import sys
import threading

import paho.mqtt.client as mqtt

host, port = sys.argv[1], int(sys.argv[2])
lock = threading.Lock()


def say(event, **fields):
    with lock:
        print(json.dumps({"event": event, **fields}), flush=True)


def on_connect(client, userdata, flags, rc, properties=None):
    say("connected", rc=str(rc), protocol=5, session_present=bool(flags.get("session present")))
    client.subscribe("homeassistant/#", qos=1)


def on_message(client, userdata, msg):
    text = msg.payload.decode("utf-8", "replace")
    if msg.topic.startswith("homeassistant/device/") and text:
        # As HA does: subscribe to what the discovery names (availability and every state topic).
        config = json.loads(text)
        topics = {config["availability_topic"]}
        topics.update(c["state_topic"] for c in config["cmps"].values() if "state_topic" in c)
        client.subscribe([(t, 1) for t in sorted(topics)])
    is_image = msg.topic.endswith("/preview")
    say("message", topic=msg.topic, payload="" if is_image else text, retain=bool(msg.retain))


def on_disconnect(client, userdata, rc, properties=None):
    say("disconnected", rc=str(rc))


client = mqtt.Client(client_id="homeassistant-test", protocol=mqtt.MQTTv5)
if len(sys.argv) > 4:
    client.username_pw_set(sys.argv[3], sys.argv[4])
client.on_connect = on_connect
client.on_message = on_message
client.on_disconnect = on_disconnect
client.connect(host, port, keepalive=30, clean_start=True)


def read_stdin():
    for line in sys.stdin:
        if line.strip():
            m = json.loads(line)
            client.publish(m["topic"], m["payload"], qos=1, retain=m.get("retain", False))
    client.disconnect()


threading.Thread(target=read_stdin, daemon=True).start()
while True:
    try:
        rc = client.loop(timeout=0.2)
    except Exception as err:  # what paho raises on a malformed packet: HA would lose its connection
        say("error", message=str(err))
        break
    if rc == mqtt.MQTT_ERR_NO_CONN and not client.is_connected():
        break
say("exited")
