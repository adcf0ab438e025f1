// Mage studio: edits, generations and the bulk job list over the app's own HTTP API (docs/studio.md).
// No framework and no build step: the page's elements are in index.html; this file wires them up.
// Everything the API sends back is written with textContent, never parsed as HTML.
'use strict';

(() => {
  const SIZE = 256; // the edit canvas: boxes, masks and margins are in pixels of the 256x256 preprocessed image
  const POLL_MS = 500;
  const JOBS_MS = 2000;
  const KEY_STORAGE = 'mage.functionKey';

  const $ = (id) => document.getElementById(id);
  const form = $('run-form');
  const canvas = $('mask-canvas');
  const view = canvas.getContext('2d');
  const brushLayer = document.createElement('canvas'); // white where the brush painted, transparent elsewhere
  brushLayer.width = SIZE;
  brushLayer.height = SIZE;
  const brush = brushLayer.getContext('2d');

  const edit = {
    file: null, // the File the user chose, sent as it is
    preview: null, // a 256x256 canvas of it as the service preprocesses it ('square': shorter side to 256, centre crop), or null when the browser cannot decode it
    boxes: [], // [x, y, w, h] in 256x256 pixels
    brushed: false,
    drag: null,
  };

  // ---- the function key: sent as x-functions-key when filled, kept for this tab only

  const keyInput = $('function-key');
  keyInput.value = sessionStorage.getItem(KEY_STORAGE) ?? '';
  keyInput.addEventListener('input', () => {
    const key = keyInput.value.trim();
    if (key) {
      sessionStorage.setItem(KEY_STORAGE, key);
    } else {
      sessionStorage.removeItem(KEY_STORAGE);
    }
  });

  // ---- the API

  /** fetch() with the function key; a non-2xx answer throws an Error carrying the API's own message. */
  async function api(path, init = {}) {
    const headers = new Headers(init.headers);
    const key = keyInput.value.trim();
    if (key) {
      headers.set('x-functions-key', key);
    }

    let response;
    try {
      response = await fetch(path, { ...init, headers, cache: 'no-store' });
    } catch (e) {
      throw new Error(`The service did not answer (${e.message}). Is it running?`);
    }

    if (!response.ok) {
      throw await apiError(response);
    }

    return response;
  }

  /**
   * The message of an error answer: RFC 9457 problem details ({ detail, field }) or the older
   * { error } body; the Functions host's 401 for a missing key has no body at all.
   */
  async function apiError(response) {
    let body = null;
    try {
      body = JSON.parse(await response.text());
    } catch {
      body = null;
    }

    let message = body && (body.detail ?? body.error ?? body.title);
    if (!message) {
      message = response.status === 401
        ? 'The service wants a function key (401): fill in Function key at the top of the page.'
        : `The service answered ${response.status} ${response.statusText}.`;
    }

    if (body && body.field) {
      message += ` (field: ${body.field})`;
    }

    const error = new Error(message);
    error.status = response.status;
    return error;
  }

  /** A member of an answer read ignoring case (the job status document's members are capitalised). */
  function member(value, name) {
    if (!value || typeof value !== 'object') {
      return undefined;
    }

    const lower = name.toLowerCase();
    const key = Object.keys(value).find((k) => k.toLowerCase() === lower);
    return key === undefined ? undefined : value[key];
  }

  /** A fresh request id: 1-64 characters of A-Z, a-z, 0-9, '.', '_' and '-'. */
  function newRequestId(prefix) {
    const random = Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) => b.toString(16).padStart(2, '0')).join('');
    return `${prefix}-${Date.now().toString(36)}-${random}`;
  }

  // ---- the form

  const mode = () => form.elements.namedItem('mode').value;
  const tool = () => form.elements.namedItem('tool').value;

  function showMode() {
    const current = mode();
    for (const element of document.querySelectorAll('[data-for]')) {
      const target = element.dataset.for;
      element.hidden = target === 'edit' ? current === 'generate' : target !== current;
    }
  }

  for (const radio of form.elements.namedItem('mode')) {
    radio.addEventListener('change', showMode);
  }

  /** The whole number in the field, or undefined when it is empty; a value out of its range throws, naming the field. */
  function wholeNumber(id, { optional = false } = {}) {
    const input = $(id);
    const text = input.value.trim();
    if (text === '') {
      if (optional) {
        return undefined;
      }

      throw fieldError(input, 'is empty');
    }

    const value = Number(text);
    const min = input.min === '' ? -Infinity : Number(input.min);
    const max = input.max === '' ? Number.MAX_SAFE_INTEGER : Number(input.max);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw fieldError(input, `must be a whole number from ${min} to ${max}`);
    }

    return value;
  }

  function fieldError(input, what) {
    const label = input.labels && input.labels[0] ? input.labels[0].textContent.trim() : input.id;
    const error = new Error(`${label} ${what}.`);
    error.input = input;
    return error;
  }

  // ---- the image and the area to regenerate

  $('image').addEventListener('change', async () => {
    const file = $('image').files[0] ?? null;
    edit.file = file;
    edit.preview = null;
    clearArea();
    showError('run-error', '');
    if (!file) {
      return;
    }

    try {
      const bitmap = await createImageBitmap(file);
      const preview = document.createElement('canvas');
      preview.width = SIZE;
      preview.height = SIZE;
      const scale = SIZE / Math.min(bitmap.width, bitmap.height);
      const width = bitmap.width * scale;
      const height = bitmap.height * scale;
      preview.getContext('2d').drawImage(bitmap, (SIZE - width) / 2, (SIZE - height) / 2, width, height);
      bitmap.close();
      edit.preview = preview;
      $('mask-summary').textContent = 'No area chosen yet.';
    } catch {
      // The service decides what it can read; a file this browser cannot show is still sent.
      $('mask-summary').textContent = 'This browser cannot show the file; boxes are still in pixels of the 256×256 image the service makes of it.';
    }

    render();
  });

  function render() {
    view.clearRect(0, 0, SIZE, SIZE);
    if (edit.preview) {
      view.drawImage(edit.preview, 0, 0);
    }

    view.save();
    view.globalAlpha = 0.45;
    view.drawImage(tinted(), 0, 0);
    view.restore();
    view.lineWidth = 2;
    view.strokeStyle = '#ff3b30';
    for (const [x, y, w, h] of edit.boxes) {
      view.strokeRect(x + 1, y + 1, w - 2, h - 2);
    }

    if (edit.drag && edit.drag.box) {
      const [x, y, w, h] = edit.drag.box;
      view.setLineDash([4, 3]);
      view.strokeRect(x + 0.5, y + 0.5, w, h);
      view.setLineDash([]);
    }
  }

  /** The area (boxes and brush) as a red layer for the view. */
  function tinted() {
    const layer = document.createElement('canvas');
    layer.width = SIZE;
    layer.height = SIZE;
    const g = layer.getContext('2d');
    g.drawImage(brushLayer, 0, 0);
    g.fillStyle = '#fff';
    for (const [x, y, w, h] of edit.boxes) {
      g.fillRect(x, y, w, h);
    }

    g.globalCompositeOperation = 'source-in';
    g.fillStyle = '#ff3b30';
    g.fillRect(0, 0, SIZE, SIZE);
    return layer;
  }

  function canvasPoint(event) {
    const rect = canvas.getBoundingClientRect();
    const x = ((event.clientX - rect.left) * SIZE) / rect.width;
    const y = ((event.clientY - rect.top) * SIZE) / rect.height;
    return [Math.min(SIZE, Math.max(0, x)), Math.min(SIZE, Math.max(0, y))];
  }

  function paint(from, to) {
    brush.strokeStyle = '#fff';
    brush.lineCap = 'round';
    brush.lineWidth = wholeNumberOr('brush-size', 16);
    brush.beginPath();
    brush.moveTo(from[0], from[1]);
    brush.lineTo(to[0], to[1]);
    brush.stroke();
    edit.brushed = true;
  }

  function wholeNumberOr(id, fallback) {
    try {
      return wholeNumber(id);
    } catch {
      return fallback;
    }
  }

  canvas.addEventListener('pointerdown', (event) => {
    if (event.button !== 0) {
      return;
    }

    canvas.setPointerCapture(event.pointerId);
    const start = canvasPoint(event);
    edit.drag = { start, last: start, box: null };
    if (tool() === 'brush') {
      paint(start, start);
      render();
    }
  });

  canvas.addEventListener('pointermove', (event) => {
    if (!edit.drag) {
      return;
    }

    const point = canvasPoint(event);
    if (tool() === 'brush') {
      paint(edit.drag.last, point);
    } else {
      edit.drag.box = boxBetween(edit.drag.start, point);
    }

    edit.drag.last = point;
    render();
  });

  const endDrag = (event) => {
    if (!edit.drag) {
      return;
    }

    if (tool() === 'box') {
      const box = boxBetween(edit.drag.start, canvasPoint(event));
      if (box[2] >= 2 && box[3] >= 2) {
        addBox(box);
      }
    } else {
      summarize();
    }

    edit.drag = null;
    render();
  };
  canvas.addEventListener('pointerup', endDrag);
  canvas.addEventListener('pointercancel', () => {
    edit.drag = null;
    render();
  });

  function boxBetween(a, b) {
    const x = Math.round(Math.min(a[0], b[0]));
    const y = Math.round(Math.min(a[1], b[1]));
    const w = Math.round(Math.max(a[0], b[0])) - x;
    const h = Math.round(Math.max(a[1], b[1])) - y;
    return [x, y, Math.min(w, SIZE - x), Math.min(h, SIZE - y)];
  }

  function addBox(box) {
    edit.boxes.push(box);
    const item = document.createElement('li');
    const [x, y, w, h] = box;
    const text = `x ${x}, y ${y}, ${w}×${h}`;
    item.append(text);
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.textContent = 'Remove';
    remove.setAttribute('aria-label', `Remove box ${text}`);
    remove.addEventListener('click', () => {
      edit.boxes.splice(edit.boxes.indexOf(box), 1);
      item.remove();
      summarize();
      render();
      $('add-box').focus();
    });
    item.append(remove);
    $('box-list').append(item);
    summarize();
    render();
  }

  function addBoxFromFields() {
    showError('run-error', '');
    try {
      const x = wholeNumber('box-x');
      const y = wholeNumber('box-y');
      const w = Math.min(wholeNumber('box-w'), SIZE - x);
      const h = Math.min(wholeNumber('box-h'), SIZE - y);
      addBox([x, y, w, h]);
    } catch (error) {
      showError('run-error', error.message, error.input);
    }
  }

  $('add-box').addEventListener('click', addBoxFromFields);
  for (const id of ['box-x', 'box-y', 'box-w', 'box-h']) {
    // Enter in a box field adds the box rather than running the edit.
    $(id).addEventListener('keydown', (event) => {
      if (event.key === 'Enter') {
        event.preventDefault();
        addBoxFromFields();
      }
    });
  }

  function clearArea() {
    edit.boxes = [];
    edit.brushed = false;
    brush.clearRect(0, 0, SIZE, SIZE);
    $('box-list').replaceChildren();
    summarize();
    render();
  }

  $('clear-mask').addEventListener('click', clearArea);

  function summarize() {
    const parts = [];
    if (edit.boxes.length) {
      parts.push(`${edit.boxes.length} box${edit.boxes.length === 1 ? '' : 'es'}`);
    }

    if (edit.brushed) {
      parts.push('a brushed area');
    }

    $('mask-summary').textContent = parts.length ? `To regenerate: ${parts.join(' and ')}.` : 'No area chosen yet.';
  }

  /** The mask as the API reads it: a 256x256 PNG, white where the image is regenerated, black elsewhere. */
  function maskPng() {
    const mask = document.createElement('canvas');
    mask.width = SIZE;
    mask.height = SIZE;
    const g = mask.getContext('2d');
    g.fillStyle = '#000';
    g.fillRect(0, 0, SIZE, SIZE);
    g.drawImage(brushLayer, 0, 0);
    g.fillStyle = '#fff';
    for (const [x, y, w, h] of edit.boxes) {
      g.fillRect(x, y, w, h);
    }

    return new Promise((resolve) => mask.toBlob(resolve, 'image/png'));
  }

  // ---- running an edit or a generation

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    showError('run-error', '');
    let submission;
    try {
      submission = await buildSubmission();
    } catch (error) {
      showError('run-error', error.message, error.input);
      return;
    }

    const run = $('run');
    run.disabled = true;
    $('outputs').replaceChildren();
    showInput(submission.route === 'edits');
    try {
      await submitAndWait(submission);
    } catch (error) {
      progress(null);
      showError('run-error', error.message);
    } finally {
      run.disabled = false;
    }
  });

  async function buildSubmission() {
    const current = mode();
    const steps = wholeNumber('steps');
    const seed = wholeNumber('seed');
    if (current === 'generate') {
      const requestId = newRequestId('gen');
      const body = JSON.stringify({ requestId, count: wholeNumber('count'), seed, steps });
      return { route: 'generations', requestId, init: { method: 'POST', headers: { 'Content-Type': 'application/json' }, body } };
    }

    if (!edit.file) {
      throw fieldError($('image'), 'is not chosen: choose an image file first');
    }

    const requestId = newRequestId(current);
    const request = { requestId, kind: current, steps, seed };
    const parts = new FormData();
    if (current === 'inpaint') {
      if (!edit.boxes.length && !edit.brushed) {
        throw fieldError(canvas, 'has no area: draw a box or brush the area to regenerate, or add a box with the fields');
      }

      request.dilate = wholeNumber('dilate');
      if (!edit.brushed) {
        request.boxes = edit.boxes;
      }
    } else if (current === 'outpaint') {
      for (const side of ['left', 'right', 'top', 'bottom']) {
        request[side] = wholeNumber(`margin-${side}`);
      }
    } else {
      const scale = Number($('scale').value);
      if (!(scale > 0 && scale < 1)) {
        throw fieldError($('scale'), 'must be above 0 and below 1');
      }

      request.scale = scale;
      const x = wholeNumber('position-x', { optional: true });
      const y = wholeNumber('position-y', { optional: true });
      if ((x === undefined) !== (y === undefined)) {
        throw fieldError($(x === undefined ? 'position-x' : 'position-y'), 'is empty: give both coordinates or neither');
      }

      if (x !== undefined) {
        request.position = [x, y];
      }
    }

    parts.append('request', JSON.stringify(request));
    parts.append('image', edit.file, edit.file.name);
    if (current === 'inpaint' && edit.brushed) {
      parts.append('mask', await maskPng(), 'mask.png');
    }

    return { route: 'edits', requestId, init: { method: 'POST', body: parts } };
  }

  async function submitAndWait({ route, requestId, init }) {
    const what = route === 'edits' ? 'Edit' : 'Generation';
    progress(`${what} ${requestId}: sending…`);
    await api(`/api/${route}`, init);
    const started = performance.now();
    const statusUrl = `/api/${route}/${encodeURIComponent(requestId)}`;
    for (;;) {
      const status = await (await api(statusUrl)).json();
      const state = status.state;
      const seconds = Math.round((performance.now() - started) / 1000);
      if (state === 'completed') {
        progress(`${what} ${requestId}: completed in ${seconds} s; loading the result…`);
        await showOutputs(status.outputs ?? [], requestId);
        progress(null);
        $('run-status').textContent = `${what} ${requestId} completed in ${seconds} s.`;
        return;
      }

      if (state === 'failed') {
        throw new Error(`${what} ${requestId} failed${status.reason ? ` (${status.reason})` : ''}: ${status.error ?? 'no message'}`);
      }

      // progress { stepsDone, stepsTotal } comes with a running request once its worker has noted it.
      const steps = status.progress && status.progress.stepsTotal > 0 ? `, step ${status.progress.stepsDone} of ${status.progress.stepsTotal}` : '';
      progress(`${what} ${requestId}: ${state === 'running' ? 'running' : 'queued'}${steps}, ${seconds} s…`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  function progress(text) {
    $('run-progress').hidden = text === null;
    $('run-status').textContent = text ?? '';
  }

  function showInput(show) {
    const figure = $('input-figure');
    figure.hidden = !(show && edit.preview);
    if (!figure.hidden) {
      $('input-image').src = edit.preview.toDataURL('image/png');
    }
  }

  /** Each image of a completed request beside the input, with download links; the links are blob: URLs, so the function key is sent once, here. */
  async function showOutputs(outputs, requestId) {
    const images = outputs.filter((o) => o.endsWith('.png'));
    const others = outputs.filter((o) => !o.endsWith('.png'));
    const extra = await Promise.all(others.map(async (o) => [o, await download(o)]));
    for (const link of images) {
      const url = await download(link);
      const name = fileName(link);
      const figure = document.createElement('figure');
      figure.className = 'output';
      const img = document.createElement('img');
      img.alt = `Result ${name} of ${requestId}`;
      img.src = url;
      const caption = document.createElement('figcaption');
      caption.append(`${name} `, downloadLink(url, name, `Download ${name} of ${requestId}`, 'PNG'));
      for (const [other, otherUrl] of extra) {
        caption.append(downloadLink(otherUrl, fileName(other), `Download ${fileName(other)} of ${requestId}`, fileName(other)));
      }

      figure.append(img, caption);
      $('outputs').append(figure);
      await img.decode().catch(() => {});
    }
  }

  async function download(link) {
    const response = await api(link);
    return URL.createObjectURL(await response.blob());
  }

  function fileName(link) {
    return decodeURIComponent(link.slice(link.lastIndexOf('/') + 1));
  }

  function downloadLink(url, name, label, text) {
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    a.textContent = text;
    a.setAttribute('aria-label', label);
    return a;
  }

  function showError(id, message, input) {
    $(id).textContent = message;
    if (input && input.focus && !input.hidden) {
      input.focus();
    }
  }

  // ---- bulk jobs

  let refreshing = false;

  async function refreshJobs() {
    if (refreshing) {
      return;
    }

    refreshing = true;
    try {
      const list = await (await api('/api/jobs?limit=10')).json();
      const jobs = member(list, 'jobs') ?? [];
      const statuses = await Promise.all(jobs.map((job) =>
        api(`/api/jobs/${encodeURIComponent(member(job, 'jobId'))}`).then((r) => r.json()).catch(() => null)));
      renderJobs(jobs, statuses, member(list, 'complete') !== false);
      showError('jobs-error', '');
    } catch (error) {
      showError('jobs-error', `The job list could not be read: ${error.message}`);
    } finally {
      refreshing = false;
    }
  }

  function renderJobs(jobs, statuses, complete) {
    const rows = jobs.map((job, i) => jobRow(job, statuses[i]));
    $('jobs-body').replaceChildren(...rows);
    const running = jobs.filter((job) => !['completed', 'failed'].includes(member(job, 'state'))).length;
    let summary = jobs.length ? `${jobs.length} recent job${jobs.length === 1 ? '' : 's'}, ${running} not finished.` : 'No jobs yet.';
    if (!complete) {
      summary += ' The list is bounded: older jobs may be missing.';
    }

    $('jobs-summary').textContent = summary;
  }

  function jobRow(job, status) {
    const read = (name) => member(status, name) ?? member(job, name);
    const jobId = String(member(job, 'jobId'));
    const state = String(read('state') ?? 'unknown');
    const done = Number(read('imagesDone') ?? 0);
    const failed = Number(read('imagesFailed') ?? 0);
    const total = Number(read('imagesTotal') ?? 0);
    const perSecond = read('imagesPerSecond');
    const eta = read('etaSeconds');
    const percent = state === 'completed' ? 100 : total > 0 ? Math.min(100, Math.floor((100 * (done + failed)) / total)) : 0;

    const row = document.createElement('tr');
    row.className = state;
    const cell = (content, className) => {
      const td = document.createElement('td');
      if (className) {
        td.className = className;
      }

      td.append(content);
      row.append(td);
      return td;
    };

    const id = document.createElement('code');
    id.textContent = jobId;
    cell(id);
    const stateCell = cell(state, 'state');
    const reason = read('reason');
    if (state === 'failed' && reason) {
      const why = document.createElement('span');
      why.className = 'reason';
      why.textContent = String(reason);
      stateCell.append(why);
    }

    const bar = document.createElement('div');
    bar.className = 'bar';
    bar.setAttribute('role', 'progressbar');
    bar.setAttribute('aria-valuemin', '0');
    bar.setAttribute('aria-valuemax', '100');
    bar.setAttribute('aria-valuenow', String(percent));
    bar.setAttribute('aria-valuetext', `${percent}%: ${done + failed} of ${total} images`);
    bar.setAttribute('aria-label', `Progress of job ${jobId}`);
    const fill = document.createElement('span');
    fill.style.width = `${percent}%`;
    bar.append(fill);
    cell(bar);
    cell(`${done} / ${total}`, 'number images');
    cell(String(failed), 'number failed-count');
    cell(typeof perSecond === 'number' && perSecond > 0 ? `${perSecond.toFixed(1)} images/s` : '—', 'number throughput');
    cell(state === 'completed' || state === 'failed' ? '—' : formatSeconds(eta), 'number eta');
    return row;
  }

  function formatSeconds(value) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      return '—';
    }

    const s = Math.round(value);
    if (s < 60) {
      return `${s} s`;
    }

    if (s < 3600) {
      return `${Math.floor(s / 60)} min ${s % 60} s`;
    }

    return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  }

  $('refresh-jobs').addEventListener('click', refreshJobs);
  setInterval(() => {
    if ($('auto-refresh').checked && document.visibilityState === 'visible') {
      refreshJobs();
    }
  }, JOBS_MS);

  showMode();
  render();
  refreshJobs();
})();
