package main

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// drawChart writes a horizontal bar chart of records/s delivered, under
// title and caption.
func drawChart(path, title, caption string, rs []result) error {
	const (
		barW, valueW = 620, 130
		rowH, top    = 22, 34
	)
	labelW := 300
	for _, r := range rs {
		labelW = max(labelW, 7*len(r.name)+16) // 7 px a character
	}
	img := image.NewRGBA(image.Rect(0, 0, labelW+barW+valueW, top+rowH*len(rs)+10))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	text := func(x, y int, s string) {
		d := font.Drawer{Dst: img, Src: image.Black, Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
		d.DrawString(s)
	}
	text(8, 20, title+caption)
	best := 0.0
	for _, r := range rs {
		best = max(best, r.delivered)
	}
	for i, r := range rs {
		y := top + i*rowH
		text(8, y+15, r.name)
		colour := color.RGBA{150, 150, 150, 255} // peers
		switch {
		case strings.Contains(r.name, "netlog"): // a contender, or a receiver row
			colour = color.RGBA{38, 110, 200, 255}
		case strings.HasPrefix(r.name, "bare"):
			colour = color.RGBA{210, 210, 210, 255}
		}
		if best > 0 {
			w := int(float64(barW-10) * r.delivered / best)
			draw.Draw(img, image.Rect(labelW, y+3, labelW+max(w, 1), y+rowH-3), &image.Uniform{colour}, image.Point{}, draw.Src)
		}
		text(labelW+barW, y+15, fmt.Sprintf("%12.0f", r.delivered))
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
