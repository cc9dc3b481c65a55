// Renders the solution's Workbooks/MCASActivity.json to PNG previews, without Azure. Demo activities from the
// emulator's generator are mapped by the connector's own mapping code (dist/), written as the Data Collector API
// would store them (type-suffixed columns, some batches delivered twice), read back the way the MCASActivity parser
// reads them, and each workbook item's query is re-done in JavaScript here; charts are inline SVG (no CDN), and
// headless Chromium takes the screenshot. It is a local picture of the workbook's queries, not an Azure screenshot.
// Writes the two preview images Content Hub shows for the workbook, one on the light theme (White) and one on the
// dark theme (Black), into the solution's Workbooks/Images/Preview/.
// Usage: npm run build && node sentinel/render/renderWorkbook.mjs [output directory]   (needs `chromium` on the PATH)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { generateActivities } from '../../dist/emulators/activityGenerator.js';
import { mapActivity } from '../../dist/src/mapping/toLogRecord.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WORKBOOKS_DIR = `${ROOT}sentinel/Solutions/MCASActivityConnector/Workbooks`;
const WORKBOOK_PATH = `${WORKBOOKS_DIR}/MCASActivity.json`;
const OUTPUT_DIR = process.argv[2] ?? `${WORKBOOKS_DIR}/Images/Preview`;
/** The colours of the Azure portal's light and dark themes that the picture uses; series colours stay the same. */
const THEMES = {
  White: {
    page: '#faf9f8',
    card: '#fff',
    border: '#e1dfdd',
    text: '#323130',
    subtext: '#605e5c',
    pill: '#8a8886',
    grid: '#edebe9',
    rule: '#f3f2f1',
    sea: '#f3f8fc',
    seaGrid: '#e1e8ef',
    land: '#dfe3e8',
    landEdge: '#c8cdd3',
  },
  Black: {
    page: '#1b1a19',
    card: '#252423',
    border: '#3b3a39',
    text: '#f3f2f1',
    subtext: '#c8c6c4',
    pill: '#8a8886',
    grid: '#3b3a39',
    rule: '#323130',
    sea: '#1f2a36',
    seaGrid: '#2b3a4a',
    land: '#3a4048',
    landEdge: '#4f5761',
  },
};
let theme = THEMES.White;

const ACTIVITY_COUNT = 3600;
const DAY_MS = 86_400_000;
const SPAN_MS = 11 * DAY_MS; // the generator's rough span; the picture shows the workbook's default range of it
const START_MS = Date.UTC(2024, 5, 3); // fixed, so the picture only changes when the code or the generator does
const SEED = 6;
const GRAIN_MS = 6 * 3_600_000; // what {TimeRange:grain} stands for in this picture
const WORKBOOK = JSON.parse(readFileSync(WORKBOOK_PATH, 'utf8'));
const RANGE_MS = WORKBOOK.items.find((item) => item.type === 9).content.parameters.find((p) => p.name === 'TimeRange')
  .value.durationMs;
const REDELIVERED_EVERY = 25; // every 25th row is delivered a second time: the at-least-once duplicates
const TIMER_MS = 5 * 60_000; // the connector's timer and settle margin, to give rows an ingestion time
const SETTLE_MS = 2 * 60_000;
const PAGE_WIDTH = 1280;
const PALETTE = [
  '#0078d4',
  '#8661c5',
  '#00a88f',
  '#ff8c00',
  '#d13438',
  '#498205',
  '#c19c00',
  '#5c2e91',
  '#038387',
  '#ca5010',
];
const GUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

// ---- Data: generator -> mapping -> Data Collector table -> MCASActivity ---------------------------------------

/** A LogRecord as the Data Collector API stores it: suffix by JSON type, GUID-looking strings in `_g`. */
function toDataCollectorRow(record, ingestedMs) {
  const row = { TimeGenerated: record.ActivityTime, IngestedTime: new Date(ingestedMs).toISOString() };
  for (const [name, value] of Object.entries(record)) {
    if (value === undefined) continue;
    if (typeof value === 'boolean') row[`${name}_b`] = value;
    else if (name === 'ActivityTime' || name === 'CreatedTime') row[`${name}_t`] = value;
    else row[`${name}${GUID.test(value) ? '_g' : '_s'}`] = value;
  }
  return row;
}

/** What the MCASActivity parser does: coalesce the suffixed columns, keep the first delivery, derive location. */
function readAsParser(tableRows) {
  const byKey = new Map();
  for (const row of tableRows) {
    const get = (name) => row[`${name}_s`] ?? row[`${name}_g`] ?? row[`${name}_t`] ?? row[`${name}_b`];
    const activity = {
      TimeGenerated: new Date(row.TimeGenerated).getTime(),
      IngestedTime: Date.parse(row.IngestedTime),
    };
    for (const column of COLUMNS) activity[column] = get(column) ?? '';
    activity.IsSuccess = get('IsSuccess');
    activity.IsFlagged = get('IsFlagged');
    activity.ActivityTime = Date.parse(activity.ActivityTime);
    const key = activity.ActivityId || `raw:${activity.RawRecordJson}`;
    const kept = byKey.get(key);
    if (kept === undefined || activity.IngestedTime < kept.IngestedTime) byKey.set(key, activity);
  }
  return [...byKey.values()].map((activity) => {
    const location = activity.LocationJson === '' ? {} : JSON.parse(activity.LocationJson);
    return {
      ...activity,
      IsAnonymousProxy: location.anonymousProxy,
      IpCategory: location.category,
      IpCategoryName: location.categoryValue ?? '',
      Latitude: location.latitude,
      Longitude: location.longitude,
    };
  });
}

const COLUMNS = [
  'ActivityId',
  'ActivityTime',
  'AppName',
  'EventType',
  'UserName',
  'IpAddress',
  'CountryCode',
  'LocationJson',
  'TruncatedFields',
  'RawRecordJson',
];

function demoActivities() {
  const records = generateActivities({
    count: ACTIVITY_COUNT,
    startCreatedMs: START_MS,
    seed: SEED,
    spanMs: SPAN_MS,
  }).map((raw) => ({ raw, record: mapActivity(raw).record }));
  const tableRows = [];
  records.forEach(({ raw, record }, index) => {
    // Posted on the first timer tick after `created` + the settle margin; a re-sent copy one tick later.
    const ingestedMs = Math.ceil((raw.created + SETTLE_MS) / TIMER_MS) * TIMER_MS;
    tableRows.push(toDataCollectorRow(record, ingestedMs));
    if (index % REDELIVERED_EVERY === 0) tableRows.push(toDataCollectorRow(record, ingestedMs + TIMER_MS));
  });
  // The workbook's time range: its default duration, ending at the last whole grain of the data.
  const times = tableRows.map((row) => Date.parse(row.TimeGenerated));
  const endMs = Math.floor(Math.max(...times) / GRAIN_MS) * GRAIN_MS;
  const startMs = endMs - RANGE_MS;
  if (Math.min(...times) > startMs) throw new Error('the demo data does not cover the time range; raise SPAN_MS');
  const inRange = tableRows.filter((_row, index) => times[index] >= startMs && times[index] < endMs);
  return { tableRows: inRange, activities: readAsParser(inRange) };
}

// ---- Each workbook item's query, in JavaScript ------------------------------------------------------------------

function countBy(rows, keyOf) {
  const counts = new Map();
  for (const row of rows) counts.set(keyOf(row), (counts.get(keyOf(row)) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || String(a[0]).localeCompare(String(b[0])));
}

/** Result of each query item, keyed by item name: `{ columns, rows }` like the query's output. */
const QUERIES = {
  'activity-over-time': (rows) => {
    const cells = countBy(rows, (row) => `${Math.floor(row.TimeGenerated / GRAIN_MS) * GRAIN_MS}|${row.AppName}`);
    return {
      columns: ['TimeGenerated', 'AppName', 'Activities'],
      rows: cells.map(([key, count]) => [Number(key.split('|')[0]), key.split('|')[1], count]),
    };
  },
  'top-apps': (rows) => ({
    columns: ['AppName', 'Activities'],
    rows: countBy(
      rows.filter((row) => row.AppName !== ''),
      (row) => row.AppName,
    ).slice(0, 10),
  }),
  'top-users': (rows) => ({
    columns: ['UserName', 'Activities'],
    rows: countBy(
      rows.filter((row) => row.UserName !== ''),
      (row) => row.UserName,
    ).slice(0, 10),
  }),
  'event-types': (rows) => ({
    columns: ['EventType', 'Activities'],
    rows: countBy(rows, (row) => row.EventType || '(none)'),
  }),
  'activity-by-country': (rows) => {
    const groups = new Map();
    for (const row of rows.filter((r) => r.CountryCode !== '' && r.Latitude !== undefined)) {
      const group = groups.get(row.CountryCode) ?? { count: 0, users: new Set(), lat: 0, lon: 0 };
      group.count += 1;
      group.users.add(row.UserName);
      group.lat += row.Latitude;
      group.lon += row.Longitude;
      groups.set(row.CountryCode, group);
    }
    return {
      columns: ['CountryCode', 'Activities', 'Users', 'Latitude', 'Longitude'],
      rows: [...groups.entries()]
        .map(([code, g]) => [code, g.count, g.users.size, g.lat / g.count, g.lon / g.count])
        .sort((a, b) => b[1] - a[1]),
    };
  },
  'logons-by-user': (rows) => {
    const groups = new Map();
    const logons = rows.filter((row) =>
      ['EVENT_CATEGORY_LOGIN', 'EVENT_CATEGORY_FAILED_LOGIN'].includes(row.EventType),
    );
    for (const row of logons.filter((r) => r.UserName !== '')) {
      const group = groups.get(row.UserName) ?? { failed: 0, succeeded: 0, countries: new Set() };
      if (row.IsSuccess === false) group.failed += 1;
      if (row.IsSuccess === true) group.succeeded += 1;
      group.countries.add(row.CountryCode);
      groups.set(row.UserName, group);
    }
    return {
      columns: ['UserName', 'FailedLogons', 'SuccessfulLogons', 'Countries'],
      rows: [...groups.entries()]
        .map(([user, g]) => [user, g.failed, g.succeeded, g.countries.size])
        .sort((a, b) => b[1] - a[1])
        .slice(0, 10),
    };
  },
  'risky-addresses': (rows) => ({
    columns: ['IpAddress', 'CountryCode', 'IpCategoryName', 'Activities'],
    rows: countBy(
      rows.filter((row) => row.IsAnonymousProxy === true || row.IpCategory === 3),
      (row) => row.IpAddress,
    )
      .slice(0, 10)
      .map(([ip, count]) => [ip, '', '', count]),
  }),
  'connector-health': (rows, tableRows) => ({
    columns: ['Activities', 'FlaggedRows', 'TruncatedRows', 'LastActivity', 'LastIngested', 'RowsInTable'],
    rows: [
      [
        rows.length,
        rows.filter((row) => row.IsFlagged === true).length,
        rows.filter((row) => row.TruncatedFields !== '').length,
        formatTime(Math.max(...rows.map((row) => row.ActivityTime))),
        formatTime(Math.max(...rows.map((row) => row.IngestedTime))),
        tableRows.length,
      ],
    ],
  }),
};

// ---- SVG and HTML -------------------------------------------------------------------------------------------

function escapeHtml(value) {
  return String(value).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  );
}

function formatTime(ms) {
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}

function shorten(value, maxLength) {
  const text = String(value);
  return text.length > maxLength ? `${text.slice(0, maxLength - 1)}…` : text;
}

function formatNumber(value) {
  return typeof value === 'number' ? value.toLocaleString('en-US') : value;
}

function niceMax(value) {
  const magnitude = 10 ** Math.floor(Math.log10(Math.max(1, value)));
  return [1, 2, 2.5, 5, 10].map((step) => step * magnitude).find((candidate) => candidate >= value);
}

function timechart({ rows }, width, height) {
  const series = [...new Set(rows.map((row) => row[1]))].sort();
  const times = [...new Set(rows.map((row) => row[0]))].sort((a, b) => a - b);
  const max = niceMax(Math.max(...rows.map((row) => row[2])));
  const left = 40,
    top = 44,
    plotWidth = width - left - 12,
    plotHeight = height - top - 28;
  const x = (t) => left + ((t - times[0]) / (times[times.length - 1] - times[0])) * plotWidth;
  const y = (v) => top + plotHeight - (v / max) * plotHeight;
  let svg = '';
  for (let i = 0; i <= 4; i += 1) {
    const v = (max / 4) * i;
    svg += `<line x1="${left}" x2="${left + plotWidth}" y1="${y(v)}" y2="${y(v)}" stroke="${theme.grid}"/>`;
    svg += `<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end" class="axis">${v}</text>`;
  }
  for (let t = Math.ceil(times[0] / DAY_MS) * DAY_MS; x(t) < left + plotWidth - 20; t += DAY_MS) {
    svg += `<text x="${x(t)}" y="${height - 8}" text-anchor="middle" class="axis">${new Date(t).toISOString().slice(5, 10)}</text>`;
  }
  series.forEach((name, index) => {
    const values = new Map(rows.filter((row) => row[1] === name).map((row) => [row[0], row[2]]));
    const points = times.map((t) => `${x(t).toFixed(1)},${y(values.get(t) ?? 0).toFixed(1)}`).join(' ');
    svg += `<polyline points="${points}" fill="none" stroke="${PALETTE[index % PALETTE.length]}" stroke-width="1.6"/>`;
    const lx = 8 + (index % 4) * ((width - 16) / 4),
      ly = 12 + Math.floor(index / 4) * 16;
    svg += `<rect x="${lx}" y="${ly - 8}" width="10" height="10" fill="${PALETTE[index % PALETTE.length]}"/>`;
    svg += `<text x="${lx + 15}" y="${ly + 1}" class="legend">${escapeHtml(name)}</text>`;
  });
  return `<svg width="${width}" height="${height}">${svg}</svg>`;
}

function barchart({ rows }, width, height) {
  const max = Math.max(...rows.map((row) => row[1]));
  const labelWidth = 250,
    rowHeight = Math.min(26, (height - 8) / Math.max(1, rows.length));
  let svg = '';
  rows.forEach(([label, value], index) => {
    const barWidth = ((width - labelWidth - 60) * value) / max;
    const y = 4 + index * rowHeight;
    const text = shorten(label, 31);
    svg += `<text x="${labelWidth - 8}" y="${y + rowHeight / 2 + 4}" text-anchor="end" class="label">${escapeHtml(text)}</text>`;
    svg += `<rect x="${labelWidth}" y="${y + 3}" width="${barWidth.toFixed(1)}" height="${rowHeight - 6}" fill="${PALETTE[0]}" rx="2"/>`;
    svg += `<text x="${labelWidth + barWidth + 6}" y="${y + rowHeight / 2 + 4}" class="value">${formatNumber(value)}</text>`;
  });
  return `<svg width="${width}" height="${height}">${svg}</svg>`;
}

function piechart({ rows }, width, height) {
  const total = rows.reduce((sum, row) => sum + row[1], 0);
  const cx = height / 2,
    cy = height / 2,
    r = height / 2 - 10,
    inner = r * 0.55;
  let angle = -Math.PI / 2,
    svg = '';
  rows.forEach(([label, value], index) => {
    const sweep = (value / total) * 2 * Math.PI;
    const [x1, y1, x2, y2] = [
      cx + r * Math.cos(angle),
      cy + r * Math.sin(angle),
      cx + r * Math.cos(angle + sweep),
      cy + r * Math.sin(angle + sweep),
    ];
    const [x3, y3, x4, y4] = [
      cx + inner * Math.cos(angle + sweep),
      cy + inner * Math.sin(angle + sweep),
      cx + inner * Math.cos(angle),
      cy + inner * Math.sin(angle),
    ];
    const large = sweep > Math.PI ? 1 : 0;
    svg += `<path d="M${x1},${y1} A${r},${r} 0 ${large} 1 ${x2},${y2} L${x3},${y3} A${inner},${inner} 0 ${large} 0 ${x4},${y4} Z" fill="${PALETTE[index % PALETTE.length]}" stroke="${theme.card}"/>`;
    const ly = 22 + index * 24;
    svg += `<rect x="${height + 12}" y="${ly - 10}" width="12" height="12" fill="${PALETTE[index % PALETTE.length]}"/>`;
    svg += `<text x="${height + 30}" y="${ly}" class="value">${((100 * value) / total).toFixed(0)}%</text>`;
    svg += `<text x="${height + 64}" y="${ly}" class="label">${escapeHtml(shorten(`${label} (${formatNumber(value)})`, 36))}</text>`;
    angle += sweep;
  });
  svg += `<text x="${cx}" y="${cy - 2}" text-anchor="middle" class="total">${formatNumber(total)}</text>`;
  svg += `<text x="${cx}" y="${cy + 16}" text-anchor="middle" class="axis">activities</text>`;
  return `<svg width="${width}" height="${height}">${svg}</svg>`;
}

// Schematic continent outlines (longitude, latitude), coarse on purpose: they only give the bubbles a place.
const LAND = [
  [
    [-168, 65],
    [-140, 70],
    [-95, 72],
    [-80, 63],
    [-60, 60],
    [-55, 50],
    [-65, 45],
    [-75, 35],
    [-81, 25],
    [-97, 26],
    [-97, 18],
    [-87, 15],
    [-80, 8],
    [-92, 15],
    [-105, 20],
    [-117, 32],
    [-124, 40],
    [-125, 49],
    [-135, 58],
    [-150, 60],
    [-165, 55],
  ],
  [
    [-55, 60],
    [-45, 60],
    [-20, 70],
    [-20, 80],
    [-40, 83],
    [-65, 80],
    [-70, 76],
    [-55, 68],
  ],
  [
    [-80, 8],
    [-75, 11],
    [-60, 10],
    [-50, 0],
    [-35, -5],
    [-38, -13],
    [-48, -25],
    [-58, -35],
    [-65, -42],
    [-68, -55],
    [-75, -50],
    [-73, -38],
    [-71, -18],
    [-81, -5],
  ],
  [
    [-10, 36],
    [-9, 43],
    [-2, 44],
    [-5, 48],
    [2, 51],
    [8, 54],
    [8, 57],
    [5, 60],
    [10, 63],
    [15, 69],
    [25, 71],
    [40, 67],
    [60, 69],
    [70, 73],
    [80, 73],
    [100, 77],
    [115, 74],
    [140, 72],
    [160, 70],
    [180, 68],
    [180, 62],
    [163, 58],
    [155, 50],
    [141, 53],
    [135, 43],
    [128, 35],
    [121, 31],
    [120, 23],
    [110, 20],
    [106, 10],
    [100, 13],
    [103, 1],
    [98, 8],
    [92, 21],
    [80, 15],
    [77, 8],
    [72, 20],
    [66, 25],
    [57, 25],
    [52, 16],
    [45, 13],
    [36, 28],
    [34, 31],
    [36, 36],
    [28, 37],
    [26, 41],
    [22, 37],
    [15, 38],
    [12, 44],
    [8, 44],
    [3, 42],
    [-4, 36],
  ],
  [
    [-17, 21],
    [-10, 30],
    [-5, 36],
    [10, 37],
    [20, 32],
    [32, 31],
    [34, 28],
    [43, 12],
    [51, 12],
    [40, -3],
    [40, -15],
    [35, -25],
    [27, -34],
    [18, -34],
    [12, -18],
    [13, -5],
    [9, 4],
    [-8, 4],
    [-17, 14],
  ],
  [
    [114, -22],
    [122, -18],
    [130, -12],
    [137, -12],
    [142, -10],
    [146, -19],
    [153, -26],
    [150, -37],
    [141, -38],
    [135, -34],
    [129, -32],
    [115, -34],
  ],
  [
    [-6, 50],
    [2, 51],
    [-2, 56],
    [-5, 58],
    [-6, 55],
  ],
  [
    [130, 31],
    [135, 34],
    [140, 35],
    [142, 40],
    [141, 45],
    [140, 41],
    [136, 36],
    [130, 34],
  ],
];

function map({ columns, rows }, width, height) {
  const [latMin, latMax] = [-58, 80];
  const x = (lon) => ((lon + 180) / 360) * width;
  const y = (lat) => ((latMax - lat) / (latMax - latMin)) * height;
  const col = (name) => columns.indexOf(name);
  const max = Math.max(...rows.map((row) => row[col('Activities')]));
  let svg = `<rect width="${width}" height="${height}" fill="${theme.sea}"/>`;
  for (let lon = -150; lon <= 150; lon += 30)
    svg += `<line x1="${x(lon)}" x2="${x(lon)}" y1="0" y2="${height}" stroke="${theme.seaGrid}"/>`;
  for (let lat = -30; lat <= 60; lat += 30)
    svg += `<line x1="0" x2="${width}" y1="${y(lat)}" y2="${y(lat)}" stroke="${theme.seaGrid}"/>`;
  for (const shape of LAND) {
    svg += `<polygon points="${shape.map(([lon, lat]) => `${x(lon).toFixed(1)},${y(lat).toFixed(1)}`).join(' ')}" fill="${theme.land}" stroke="${theme.landEdge}"/>`;
  }
  const placed = []; // label boxes already drawn, to keep labels of nearby countries apart
  let labels = '';
  for (const row of [...rows].sort((a, b) => b[col('Activities')] - a[col('Activities')])) {
    const share = row[col('Activities')] / max;
    const radius = 6 + 18 * Math.sqrt(share);
    const hue = Math.round(120 - 120 * share); // heatmap, green to red, as the item's greenRed palette
    const [cx, cy] = [x(row[col('Longitude')]), y(row[col('Latitude')])];
    svg += `<circle cx="${cx}" cy="${cy}" r="${radius}" fill="hsla(${hue},75%,45%,0.72)" stroke="${theme.card}"/>`;
    const text = `${row[col('CountryCode')]} ${formatNumber(row[col('Activities')])}`;
    const boxWidth = text.length * 7.5;
    const candidates = [
      [cx + radius + 3, cy + 4],
      [cx - radius - 3 - boxWidth, cy + 4],
      [cx - boxWidth / 2, cy - radius - 5],
      [cx - boxWidth / 2, cy + radius + 14],
    ];
    const overlaps = ([lx, ly]) =>
      placed.some(([px, py]) => lx < px + boxWidth && px < lx + boxWidth && Math.abs(ly - py) < 14);
    const [lx, ly] = candidates.find((candidate) => !overlaps(candidate)) ?? candidates[0];
    placed.push([lx, ly]);
    labels += `<text x="${lx}" y="${ly}" class="maplabel">${escapeHtml(text)}</text>`;
  }
  svg += labels;
  return `<svg width="${width}" height="${height}">${svg}</svg>`;
}

function table({ columns, rows }, _width, _height, content) {
  if (rows.length === 0)
    return `<div class="nodata">${escapeHtml(content.noDataMessage ?? 'The query returned no results.')}</div>`;
  const head = columns.map((column) => `<th>${escapeHtml(column)}</th>`).join('');
  const body = rows
    .map(
      (row) =>
        `<tr>${row.map((cell) => `<td class="${typeof cell === 'number' ? 'num' : ''}">${escapeHtml(shorten(formatNumber(cell), 34))}</td>`).join('')}</tr>`,
    )
    .join('');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

const VISUALS = { timechart, barchart, piechart, map, table };

function cardHeight(item) {
  if (item.name === 'connector-health') return 56;
  return item.content.visualization === 'timechart' ? 270 : 250;
}

function renderPage(workbook, activities, tableRows) {
  const title =
    workbook.items
      .find((item) => item.type === 1)
      ?.content.json.split('\n')[0]
      .replace(/^#+\s*/, '') ?? '';
  const rangeDays = RANGE_MS / DAY_MS;
  let cards = '';
  let rowWidth = 0;
  let pageHeight = 150;
  for (const item of workbook.items.filter((i) => i.type === 3)) {
    const query = QUERIES[item.name];
    if (query === undefined)
      throw new Error(`no JavaScript version of workbook item "${item.name}"; add it to QUERIES`);
    const half = item.customWidth === '50';
    const width = half ? (PAGE_WIDTH - 48) / 2 : PAGE_WIDTH - 32;
    const height = cardHeight(item);
    if (!half || rowWidth === 0) pageHeight += height + 62;
    rowWidth = half && rowWidth === 0 ? width : 0;
    const visual = VISUALS[item.content.visualization ?? 'table'];
    const result = query(activities, tableRows);
    cards += `<section class="card" style="width:${width - 26}px"><h2>${escapeHtml(item.content.title)}</h2>`;
    cards += `<div class="visual" style="height:${height}px">${visual(result, width - 26, height, item.content)}</div></section>`;
  }
  const duplicates = tableRows.length - new Set(tableRows.map((row) => row.ActivityId_s ?? row.ActivityId_g)).size;
  const html = `<!doctype html><html><head><meta charset="utf-8"><style>
    body { margin: 0; font-family: 'Segoe UI', 'Noto Sans', 'DejaVu Sans', sans-serif; background: ${theme.page}; color: ${theme.text}; }
    header { padding: 16px 16px 6px; } h1 { font-size: 22px; font-weight: 600; margin: 0 0 6px; }
    .note { font-size: 12.5px; color: ${theme.subtext}; max-width: 1180px; line-height: 1.45; }
    .pill { display: inline-block; margin-top: 8px; padding: 3px 12px; border: 1px solid ${theme.pill}; border-radius: 14px; font-size: 12.5px; background: ${theme.card}; }
    main { display: flex; flex-wrap: wrap; gap: 16px; padding: 8px 16px 16px; }
    .card { background: ${theme.card}; border: 1px solid ${theme.border}; border-radius: 4px; padding: 10px 12px; }
    h2 { font-size: 14px; font-weight: 600; margin: 0 0 8px; }
    .axis { font-size: 11px; fill: ${theme.subtext}; } .legend { font-size: 11.5px; fill: ${theme.text}; }
    .label { font-size: 12px; fill: ${theme.text}; } .value { font-size: 12px; fill: ${theme.subtext}; }
    .total { font-size: 20px; font-weight: 600; fill: ${theme.text}; } .maplabel { font-size: 11.5px; font-weight: 600; fill: ${theme.text}; }
    table { border-collapse: collapse; width: 100%; font-size: 12.5px; } th { text-align: left; border-bottom: 2px solid ${theme.border}; padding: 4px 8px; }
    td { border-bottom: 1px solid ${theme.rule}; padding: 4px 8px; } td.num { text-align: right; }
    .nodata { color: ${theme.subtext}; font-size: 13px; padding: 24px 8px; }
  </style></head><body><header><h1>${escapeHtml(title)}</h1>
  <div class="note">Local rendering of <b>Workbooks/MCASActivity.json</b>, not a screenshot from Azure. Data:
  demo activities from the emulator's generator, mapped by the connector's mapping code,
  stored as the Data Collector API stores them (${duplicates} rows delivered twice) and read back as the MCASActivity parser does;
  each item's KQL re-done in JavaScript by sentinel/render/renderWorkbook.mjs. Time grain ${GRAIN_MS / 3_600_000} h.</div>
  <span class="pill">Time range: last ${rangeDays} days</span></header><main>${cards}</main></body></html>`;
  return { html, pageHeight };
}

function screenshot(html, height, outputPath) {
  const dir = mkdtempSync(join(tmpdir(), 'workbook-'));
  try {
    const page = join(dir, 'workbook.html');
    writeFileSync(page, html);
    const result = spawnSync(
      'chromium',
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--hide-scrollbars',
        `--user-data-dir=${join(dir, 'profile')}`,
        `--window-size=${PAGE_WIDTH},${height}`,
        `--screenshot=${outputPath}`,
        `file://${page}`,
      ],
      { encoding: 'utf8' },
    );
    if (result.status !== 0) throw new Error(`chromium failed (${result.status}): ${result.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const { tableRows, activities } = demoActivities();
for (const [name, colours] of Object.entries(THEMES)) {
  theme = colours;
  const { html, pageHeight } = renderPage(WORKBOOK, activities, tableRows);
  const outputPath = `${OUTPUT_DIR}/MCASActivity${name}.png`;
  screenshot(html, pageHeight, outputPath);
  console.log(
    `Wrote ${outputPath} (${Math.round(statSync(outputPath).size / 1024)} KB, ${activities.length} activities in range)`,
  );
}
