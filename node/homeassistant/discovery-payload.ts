// Pure: the Home Assistant MQTT device-discovery message for one node. HA reads it from
// <prefix>/device/<node>/config; options at the top level (availability, qos) apply to every component.
import { commandTopic, nodeTopic, type NodeLeaf } from "../../contract/topics.js";

export interface DiscoveryInput {
  base: string;
  node: string;
  groups: readonly string[];
  version: string;
}

type Component = Record<string, unknown> & {
  p: "sensor" | "binary_sensor" | "switch" | "camera";
  unique_id: string;
};

export function discoveryPayload(i: DiscoveryInput): {
  dev: Record<string, unknown>;
  o: Record<string, unknown>;
  cmps: Record<string, Component>;
  [key: string]: unknown;
} {
  const t = (leaf: NodeLeaf): string => nodeTopic(i.base, i.node, leaf);
  const uid = (key: string): string => `labx_${i.node}_${key}`;
  const ms = (field: string): string =>
    `{{ (value_json.${field} * 1000) | round(3) if value_json.${field} is not none else None }}`;
  const diagnostic = { entity_category: "diagnostic" };
  return {
    dev: {
      ids: [`labx_${i.node}`],
      name: `labx ${i.node}`,
      mf: "labx",
      mdl: "labx camera node",
      sw: i.version,
      ...(i.groups.length ? { sa: i.groups.join(", ") } : {}),
    },
    o: { name: "labx", sw: i.version },
    availability_topic: t("availability"),
    payload_available: "online",
    payload_not_available: "offline",
    qos: 1,
    cmps: {
      recording: {
        p: "switch",
        unique_id: uid("recording"),
        name: "Recording",
        icon: "mdi:record-rec",
        command_topic: commandTopic(i.base, i.node),
        payload_on: "start",
        payload_off: "stop",
        state_topic: t("state"),
        // A scheduled session is on: the switch was turned on and the node is committed to it.
        value_template: "{{ 'ON' if value_json.state in ('recording', 'scheduled') else 'OFF' }}",
        state_on: "ON",
        state_off: "OFF",
      },
      state: {
        p: "sensor",
        unique_id: uid("state"),
        name: "State",
        state_topic: t("state"),
        value_template: "{{ value_json.state }}",
        device_class: "enum",
        options: ["idle", "scheduled", "recording", "stopping", "error"],
      },
      batches: {
        p: "sensor",
        unique_id: uid("batches"),
        name: "Batches",
        icon: "mdi:filmstrip-box-multiple",
        state_topic: t("state"),
        value_template: "{{ value_json.batches }}",
        state_class: "measurement",
      },
      clock_offset: {
        p: "sensor",
        unique_id: uid("clock_offset"),
        name: "Clock offset",
        state_topic: t("clock"),
        value_template: ms("offset_s"),
        unit_of_measurement: "ms",
        device_class: "duration",
        state_class: "measurement",
        ...diagnostic,
      },
      root_dispersion: {
        p: "sensor",
        unique_id: uid("root_dispersion"),
        name: "Root dispersion",
        state_topic: t("clock"),
        value_template: ms("root_dispersion_s"),
        unit_of_measurement: "ms",
        device_class: "duration",
        state_class: "measurement",
        ...diagnostic,
      },
      free_disk: {
        p: "sensor",
        unique_id: uid("free_disk"),
        name: "Free disk",
        state_topic: t("state"),
        value_template: "{{ value_json.free_mb if value_json.free_mb is defined else None }}",
        unit_of_measurement: "MiB",
        device_class: "data_size",
        state_class: "measurement",
        ...diagnostic,
      },
      // The preview is a plain JPEG, which HA's MQTT camera shows as it comes (docs/dashboard.md).
      preview: {
        p: "camera",
        unique_id: uid("preview"),
        name: "Preview",
        topic: t("preview"),
      },
      clock_synced: {
        p: "binary_sensor",
        unique_id: uid("clock_synced"),
        name: "Clock synced",
        state_topic: t("clock"),
        value_template: "{{ 'ON' if value_json.synced else 'OFF' }}",
        payload_on: "ON",
        payload_off: "OFF",
        ...diagnostic,
      },
    },
  };
}
