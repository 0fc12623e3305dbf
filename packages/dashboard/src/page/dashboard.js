// The eskit dashboard page. Plain browser JavaScript, inlined into the page by the server: no
// build step, no framework, no network beyond this dashboard's own endpoints. Every value from
// the server is written with textContent or as an SVG attribute, never as HTML.

const base = location.pathname.endsWith('/') ? location.pathname : `${location.pathname}/`
const tokenKey = `eskit-dashboard-token:${base}`
const SVG = 'http://www.w3.org/2000/svg'
const COLORS = ['#2f5fd0', '#1a7f37', '#b35900', '#8e44ad', '#c62828', '#00838f', '#6d4c41', '#ad1457']
const CHART = { height: 170, left: 56, right: 8, top: 8, bottom: 22 }

/** @type {{ writable: boolean, stepMs: number, windowMs: number, points: Array<{ t: number, rates: Record<string, number> }>, projections: any[] }} */
const model = { writable: false, stepMs: 2000, windowMs: 600000, points: [], projections: [] }
/** @type {Map<string, ReturnType<typeof createCard>>} */
const cards = new Map()

const byId = (id) => /** @type {HTMLElement} */ (document.getElementById(id))

/** An element with a class and, optionally, text. */
function el(tag, className, text) {
  const node = document.createElement(tag)
  if (className) node.className = className
  if (text !== undefined) node.textContent = text
  return node
}

const count = (n) => Math.round(n).toLocaleString('en-US')

function duration(ms) {
  if (ms < 1000) return `${Math.round(ms)} ms`
  const seconds = ms / 1000
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`
}

function when(iso) {
  const date = new Date(iso)
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString()
}

function colorOf(name) {
  const index = model.projections.findIndex((p) => p.name === name)
  return COLORS[Math.max(index, 0) % COLORS.length]
}

// ---- the operator token: typed in by the operator, kept in this tab's sessionStorage only ----

const token = {
  get: () => sessionStorage.getItem(tokenKey),
  set: (value) => sessionStorage.setItem(tokenKey, value),
  forget: () => sessionStorage.removeItem(tokenKey),
}

function showTokenState() {
  byId('token-state').textContent = token.get() ? 'token set for this tab' : 'no token: rebuild needs one'
}

function setUpTokenForm() {
  const form = /** @type {HTMLFormElement} */ (byId('token-form'))
  const input = /** @type {HTMLInputElement} */ (byId('token'))
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    const value = input.value.trim()
    if (value) token.set(value)
    input.value = ''
    showTokenState()
  })
  byId('forget-token').addEventListener('click', () => {
    token.forget()
    showTokenState()
  })
}

// ---- projection cards ----

function createCard(name) {
  const root = el('article', 'card')
  root.dataset.projection = name
  const head = el('div', 'card-head')
  const title = el('h3', 'name', name)
  const state = el('span', 'state')
  const version = el('span', 'version')
  head.append(title, state, version)
  const button = el('button', 'rebuild-button', 'Rebuild')
  button.type = 'button'
  button.hidden = true
  button.addEventListener('click', () => requestRebuild(name, card))
  head.append(button)

  const numbers = el('dl', 'numbers')
  const number = (label) => {
    const box = el('div')
    const value = el('dd', `value-${label}`, '-')
    box.append(el('dt', '', label), value)
    numbers.append(box)
    return value
  }
  const position = number('position')
  const headPosition = number('head')
  const lag = number('lag')
  const rate = number('events/s')

  const rebuild = el('div', 'rebuild')
  const progress = /** @type {HTMLProgressElement} */ (el('progress', 'rebuild-progress'))
  const rebuildText = el('div', 'rebuild-text')
  rebuild.append(progress, rebuildText)
  const lastRebuild = el('div', 'last-rebuild')
  const error = el('div', 'error')
  const errorTitle = el('strong', 'error-title')
  const errorMessage = el('pre', 'error-message')
  error.append(errorTitle, errorMessage)
  const parked = el('div', 'parked')
  const parkedHead = el('div', 'parked-head')
  const parkedCount = el('span', 'parked-count')
  const parkedButton = el('button', 'parked-button', 'Show')
  parkedButton.type = 'button'
  parkedHead.append(parkedCount, ' ', parkedButton)
  const parkedList = el('div', 'parked-list')
  parked.append(parkedHead, parkedList)
  const message = el('div', 'message')
  parkedButton.addEventListener('click', () => toggleParked(name, card))
  root.append(head, numbers, rebuild, lastRebuild, error, parked, message)

  const card = {
    root,
    state,
    version,
    button,
    position,
    headPosition,
    lag,
    rate,
    rebuild,
    progress,
    rebuildText,
    lastRebuild,
    error,
    errorTitle,
    errorMessage,
    parked,
    parkedCount,
    parkedButton,
    parkedList,
    message,
    parkedOpen: false,
  }
  return card
}

function updateCard(card, p) {
  card.state.textContent = p.state
  card.state.dataset.state = p.state
  card.root.dataset.state = p.state
  card.version.textContent = `v${p.version}`
  card.position.textContent = count(p.position)
  card.headPosition.textContent = count(p.head)
  card.lag.textContent = count(p.lag)
  card.rate.textContent = count(p.eventsPerSecond)
  card.button.hidden = !model.writable

  const r = p.rebuild
  card.rebuild.hidden = r === undefined
  if (r) {
    const percent = r.target > 0 ? Math.min(100, Math.floor((r.position / r.target) * 100)) : 100
    card.progress.max = Math.max(1, r.target)
    card.progress.value = Math.min(r.position, Math.max(1, r.target))
    card.rebuild.dataset.percent = String(percent)
    const done = `${percent}% · ${count(r.position)} / ${count(r.target)} events`
    const eta = r.eventsPerSecond > 0 ? ` · ETA ${duration(r.etaMs)}` : ''
    // a failed rebuild waits for its retry: its last rate and ETA would mislead
    card.rebuildText.textContent =
      p.state === 'failed'
        ? `rebuild halted at ${done}`
        : `rebuilding ${done} · ${count(r.eventsPerSecond)} events/s${eta}`
  }
  card.lastRebuild.textContent = p.lastRebuild
    ? `last rebuild ${when(p.lastRebuild.at)}, took ${duration(p.lastRebuild.durationMs)}`
    : 'no rebuild since the process started'

  card.error.hidden = p.error === undefined
  if (p.error) {
    card.errorTitle.textContent = `failed at position ${count(p.error.position)} (attempt ${p.error.attempts})`
    card.errorMessage.textContent = p.error.message
  }
  card.parked.hidden = p.parkedCount === 0 && !card.parkedOpen
  card.parkedCount.textContent = `${count(p.parkedCount)} parked event${p.parkedCount === 1 ? '' : 's'}`
}

async function toggleParked(name, card) {
  card.parkedOpen = !card.parkedOpen
  card.parkedButton.textContent = card.parkedOpen ? 'Hide' : 'Show'
  card.parkedList.replaceChildren()
  if (!card.parkedOpen) return
  try {
    const response = await fetch(`${base}api/projections/${encodeURIComponent(name)}/parked`)
    const body = await response.json()
    if (!response.ok) throw new Error(body.error?.message ?? response.statusText)
    for (const parked of body.parked) {
      const details = el('details', 'parked-event')
      const summary = el(
        'summary',
        '',
        `#${parked.position} ${parked.type} on ${parked.streamId}: ${parked.error}`,
      )
      details.append(summary, el('pre', 'parked-json', JSON.stringify(parked.event, null, 2)))
      card.parkedList.append(details)
    }
  } catch (error) {
    card.parkedList.append(el('div', 'message', `could not load the parked events: ${error.message}`))
  }
}

async function requestRebuild(name, card) {
  const secret = token.get()
  if (!secret) {
    card.message.textContent = 'Enter the operator token at the top of the page first.'
    byId('token').focus()
    return
  }
  card.button.disabled = true
  card.message.textContent = 'requesting a rebuild…'
  try {
    const response = await fetch(`${base}api/projections/${encodeURIComponent(name)}/rebuild`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}` },
      credentials: 'omit',
    })
    const body = await response.json().catch(() => ({}))
    if (response.status === 401) {
      token.forget()
      showTokenState()
      card.message.textContent = 'The token was refused: enter it again.'
    } else if (!response.ok) {
      card.message.textContent = `Refused: ${body.error?.message ?? response.statusText}`
    } else {
      card.message.textContent = 'Rebuild requested.'
    }
  } catch (error) {
    card.message.textContent = `Could not reach the dashboard: ${error.message}`
  } finally {
    card.button.disabled = false
  }
}

function renderProjections() {
  const container = byId('projections')
  const names = new Set(model.projections.map((p) => p.name))
  for (const [name, card] of cards) {
    if (!names.has(name)) {
      card.root.remove()
      cards.delete(name)
    }
  }
  for (const p of model.projections) {
    let card = cards.get(p.name)
    if (!card) {
      card = createCard(p.name)
      cards.set(p.name, card)
    }
    updateCard(card, p)
    container.append(card.root) // keeps the server's order
  }
  byId('empty').hidden = model.projections.length > 0
  const head = model.projections.reduce((max, p) => Math.max(max, p.head), 0)
  const behind = model.projections.filter((p) => p.state !== 'live').length
  byId('summary').textContent =
    `log head ${count(head)} · ${model.projections.length} projections · ${behind === 0 ? 'all live' : `${behind} not live`}`
}

// ---- throughput chart: one line per projection, hand-drawn SVG ----

function svg(tag, attributes, text) {
  const node = document.createElementNS(SVG, tag)
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value))
  if (text !== undefined) node.textContent = text
  return node
}

/** "10 minutes" (or "10 min" when short), "30 seconds" for windows that are not whole minutes. */
function windowLabel(ms, short = false) {
  const minutes = ms / 60000
  if (Number.isInteger(minutes))
    return short ? `${minutes} min` : `${minutes} minute${minutes === 1 ? '' : 's'}`
  const seconds = Math.round(ms / 1000)
  return short ? `${seconds} s` : `${seconds} seconds`
}

function niceMax(value) {
  if (value <= 10) return 10
  const power = 10 ** Math.floor(Math.log10(value))
  for (const step of [1, 2, 5, 10]) if (value <= step * power) return step * power
  return 10 * power
}

function renderChart() {
  const chart = byId('chart')
  const now = model.points.at(-1)?.t ?? Date.now()
  const from = now - model.windowMs
  const points = model.points.filter((point) => point.t > from)
  const max = niceMax(Math.max(0, ...points.flatMap((point) => Object.values(point.rates))))
  const { height, left, right, top, bottom } = CHART
  // drawn at the size it is shown, so the text is not stretched
  const width = Math.max(320, Math.round(chart.getBoundingClientRect().width) || 800)
  chart.setAttribute('viewBox', `0 0 ${width} ${height}`)
  const x = (t) => left + ((t - from) / model.windowMs) * (width - left - right)
  const y = (v) => top + (1 - v / max) * (height - top - bottom)
  const nodes = [
    svg('line', { class: 'axis', x1: left, x2: width - right, y1: y(0), y2: y(0) }),
    svg('line', { class: 'axis', x1: left, x2: width - right, y1: y(max), y2: y(max) }),
    svg('text', { x: left - 6, y: y(max) + 4, 'text-anchor': 'end' }, count(max)),
    svg('text', { x: left - 6, y: y(0) + 4, 'text-anchor': 'end' }, '0'),
    svg('text', { x: left, y: height - 4 }, `-${windowLabel(model.windowMs, true)}`),
    svg('text', { x: width - right, y: height - 4, 'text-anchor': 'end' }, 'now'),
  ]
  const legend = byId('legend')
  legend.replaceChildren()
  for (const p of model.projections) {
    const color = colorOf(p.name)
    const coordinates = points
      .filter((point) => point.rates[p.name] !== undefined)
      .map((point) => `${x(point.t).toFixed(1)},${y(point.rates[p.name]).toFixed(1)}`)
    if (coordinates.length > 0) {
      const line = svg('polyline', { points: coordinates.join(' '), stroke: color })
      line.dataset.projection = p.name
      nodes.push(line)
    }
    const item = el('li')
    const swatch = el('span', 'swatch')
    swatch.style.background = color
    item.append(swatch, `${p.name}: ${count(p.eventsPerSecond)}/s`)
    legend.append(item)
  }
  chart.replaceChildren(...nodes)
  byId('window').textContent = windowLabel(model.windowMs)
}

// ---- live updates over server-sent events ----

function applyState(state) {
  model.writable = state.writable
  model.stepMs = state.stepMs
  model.windowMs = state.windowMs
  model.points = state.history.slice()
  model.projections = state.projections
  byId('title').textContent = state.title
  document.title = state.title
  byId('token-form').hidden = !state.writable
  if (state.writable) showTokenState()
  renderProjections()
  renderChart()
}

function applySample(sample) {
  model.projections = sample.projections
  if (sample.point) {
    model.points.push(sample.point)
    const from = sample.point.t - model.windowMs
    while (model.points.length > 0 && model.points[0].t <= from) model.points.shift()
  }
  renderProjections()
  if (sample.point) renderChart()
}

function connect() {
  const connection = byId('connection')
  const source = new EventSource(`${base}api/events`)
  source.addEventListener('open', () => {
    connection.dataset.state = 'live'
    connection.textContent = 'live'
  })
  source.addEventListener('error', () => {
    connection.dataset.state = source.readyState === EventSource.CLOSED ? 'lost' : 'connecting'
    connection.textContent = source.readyState === EventSource.CLOSED ? 'disconnected' : 'reconnecting…'
  })
  source.addEventListener('state', (event) => applyState(JSON.parse(event.data)))
  source.addEventListener('sample', (event) => applySample(JSON.parse(event.data)))
}

setUpTokenForm()
addEventListener('resize', () => renderChart())
connect()
