-- Raw HTML blocks into Pandoc blocks, for the PDF (Typst) of the annual report.
--
-- Tables and notes reach the document as raw HTML blocks
-- (arr_stats.report.formats.HtmlBlock). Typst cannot show raw HTML, so this
-- filter reads each such block with Pandoc's HTML reader: a table becomes a
-- Typst table (its <caption> a numbered table caption, its <thead> a header
-- row that Typst repeats on every page the table runs over), and a note
-- (<p class="table-note">) a paragraph. Cells of class "num" are right
-- aligned; a cell's background colour (the target-level colours of
-- LEVEL_COLOURS) becomes its Typst fill.
--
-- Both engines use it: Quarto through `filters` under `format.typst` in
-- _quarto.yml (it runs before Quarto's own table processing, which keeps only
-- the tables and drops their captions and the notes), and the fallback
-- through Pandoc (arr_stats.report.pdf).

local function style_cells(cells)
  for _, cell in ipairs(cells) do
    if cell.attr.classes:includes("num") then
      cell.alignment = pandoc.AlignRight
    end
    local style = cell.attr.attributes.style or ""
    local colour = style:match("background%-color:%s*(#%x%x%x%x%x%x)")
    if colour then
      cell.attr.attributes["typst:fill"] = 'rgb("' .. colour .. '")'
    end
    cell.attr.attributes.style = nil
  end
end

local function typst_of(blocks)
  return pandoc.write(pandoc.Pandoc(blocks), "typst"):gsub("%s+$", "")
end

-- A captioned table as a Typst figure of kind table written around it, so
-- that its caption is kept and numbered the same way by both engines (Quarto
-- drops the caption of a table that has no cross-reference id).
-- A table followed by a note in its block sticks to the note (Typst's
-- sticky block), so the note's first lines stay on the table's page.
local note_follows = false

local function as_figure(tbl)
  local caption = tbl.caption.long
  if #caption == 0 then
    return tbl
  end
  tbl.caption.long = pandoc.Blocks({})
  local text = typst_of(caption)
  local open = "#figure(kind: table, caption: figure.caption([" .. text .. "]))["
  local close = "]"
  if note_follows then
    open, close = "#block(sticky: true)[" .. open, close .. "]"
  end
  return { pandoc.RawBlock("typst", open), tbl, pandoc.RawBlock("typst", close) }
end

local function style_table(tbl)
  for _, row in ipairs(tbl.head.rows) do
    style_cells(row.cells)
  end
  for _, body in ipairs(tbl.bodies) do
    for _, row in ipairs(body.head) do
      style_cells(row.cells)
    end
    for _, row in ipairs(body.body) do
      style_cells(row.cells)
    end
  end
  for _, row in ipairs(tbl.foot.rows) do
    style_cells(row.cells)
  end
  return as_figure(tbl)
end

function RawBlock(el)
  if el.format ~= "html" or not FORMAT:match("typst") then
    return nil
  end
  local after = el.text:match(".*</table>(.*)$") or ""
  note_follows = after:match("<p[%s>]") ~= nil
  return pandoc.read(el.text, "html").blocks:walk({ Table = style_table })
end
