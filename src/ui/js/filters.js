// filters.js: which torrents the table shows (state, category, tag, tracker, text).
import { model } from "./sync.js";

const DL = new Set(["downloading", "metaDL", "forcedMetaDL", "stalledDL", "checkingDL", "forcedDL", "queuedDL", "allocating"]);
const UP = new Set(["uploading", "stalledUP", "checkingUP", "forcedUP", "queuedUP"]);
const STOPPED = new Set(["stoppedDL", "stoppedUP", "pausedDL", "pausedUP"]);

export const STATES = [
  ["all", "All"], ["downloading", "Downloading"], ["seeding", "Seeding"], ["completed", "Completed"],
  ["running", "Running"], ["stopped", "Stopped"], ["active", "Active"], ["inactive", "Inactive"],
  ["stalled", "Stalled"], ["checking", "Checking"], ["moving", "Moving"], ["errored", "Errored"],
];

export function stateMatch(f, t) {
  const s = t.state;
  switch (f) {
    case "all": return true;
    case "downloading": return DL.has(s);
    case "seeding": return UP.has(s);
    case "completed": return t.progress >= 1;
    case "running": return !STOPPED.has(s);
    case "stopped": return STOPPED.has(s);
    case "active": return (t.dlspeed || 0) + (t.upspeed || 0) > 0;
    case "inactive": return !((t.dlspeed || 0) + (t.upspeed || 0) > 0);
    case "stalled": return s === "stalledDL" || s === "stalledUP";
    case "checking": return s && s.startsWith("checking");
    case "moving": return s === "moving";
    case "errored": return s === "error" || s === "missingFiles";
    default: return true;
  }
}

export const filter = { state: "all", category: null, tag: null, tracker: null, text: "" };

// hash -> true for the tracker filter, rebuilt when the tracker map changes.
let trackerSet = null, trackerKey = null;
function inTracker(h) {
  if (filter.tracker !== trackerKey) {
    trackerKey = filter.tracker;
    trackerSet = null;
  }
  if (!trackerSet) {
    trackerSet = new Set();
    if (filter.tracker === "") {
      const any = new Set(Object.values(model.trackers).flat());
      for (const k of model.torrents.keys()) if (!any.has(k)) trackerSet.add(k);
    } else {
      for (const [u, hs] of Object.entries(model.trackers))
        if (hostOf(u) === filter.tracker) for (const x of hs) trackerSet.add(x);
    }
  }
  return trackerSet.has(h);
}
export function invalidateTrackers() { trackerSet = null; }

export function hostOf(url) {
  try { return new URL(url).hostname || url; } catch { return url; }
}

export function tagsOf(t) {
  return t.tags ? t.tags.split(",").map((x) => x.trim()).filter(Boolean) : [];
}

export function matches(t) {
  if (filter.state !== "all" && !stateMatch(filter.state, t)) return false;
  if (filter.category !== null && (t.category || "") !== filter.category) return false;
  if (filter.tag !== null) {
    const tags = tagsOf(t);
    if (filter.tag === "" ? tags.length : !tags.includes(filter.tag)) return false;
  }
  if (filter.tracker !== null && !inTracker(t.hash)) return false;
  if (filter.text) {
    const words = filter.text.toLowerCase().split(/\s+/).filter(Boolean);
    const name = (t.name || "").toLowerCase();
    if (!words.every((w) => name.includes(w) || t.hash.startsWith(w))) return false;
  }
  return true;
}
