package capacity

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
)

// capacityPage is the search's HTML page: the stage table readable
// without JavaScript, and three charts against fleet size (throughput,
// refresh p99, errors and 503 shed) drawn as inline SVG by a small script,
// with the knee marked. It loads nothing: the data sits in the page.
var capacityPage = template.Must(template.New("capacity").Funcs(template.FuncMap{"pct": func(f float64) float64 { return 100 * f }}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>stampede capacity {{.R.RunID}}</title>
<style>
body{font:14px system-ui,sans-serif;margin:24px;max-width:1200px}
table{border-collapse:collapse}td,th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}
th:first-child,td:first-child{text-align:left}.fail{color:#b00}.pass{color:#070}.generator_behind{color:#a60}
.charts{display:flex;flex-wrap:wrap;gap:16px}.chart{width:380px}.chart h3{font-size:14px;margin:8px 0}
</style></head><body>
<h1>stampede capacity</h1>
<p id="summary">{{.R.Summary}}</p>
{{if .R.Broke}}<p>Broke: <code>{{.R.Broke.Expr}}</code>: {{printf "%.1f" .R.Broke.Value}} {{.R.Broke.Unit}} against {{printf "%.1f" .R.Broke.Limit}} {{.R.Broke.Unit}}.</p>{{end}}
<div class="charts">
<div class="chart"><h3>Throughput (requests/s)</h3><svg id="c-throughput" width="380" height="220" role="img"></svg></div>
<div class="chart"><h3>Refresh p99 (ms)</h3><svg id="c-latency" width="380" height="220" role="img"></svg></div>
<div class="chart"><h3>Errors and 503 shed (%)</h3><svg id="c-errors" width="380" height="220" role="img"></svg></div>
</div>
<h2>Stages</h2>
<table><tr><th>clients</th><th>verdict</th><th>req/s</th><th>refresh p99 ms</th><th>errors</th><th>amplification</th><th>retries</th><th>peak/mean</th><th>in flight</th><th>503 shed</th><th>lag p99 ms</th></tr>
{{range .R.Stages}}<tr><td>{{.Clients}}</td><td class="{{.Verdict}}">{{.Verdict}}</td><td>{{printf "%.1f" .ThroughputRPS}}</td><td>{{printf "%.1f" .RefreshP99Ms}}</td><td>{{printf "%.1f %%" (pct .ErrorRate)}}</td><td>{{printf "%.2f" .Amplification}}</td><td>{{.Retries}}</td><td>{{printf "%.2f" .PeakToMean}}</td><td>{{.MaxInflight}}</td><td>{{printf "%.1f %%" (pct .ShedShare)}}</td><td>{{printf "%.1f" .LagP99Ms}}</td></tr>
{{end}}</table>
<script type="application/json" id="data">{{.Data}}</script>
<script>
(function(){
try{
var d=JSON.parse(document.getElementById("data").textContent);
var ns="http://www.w3.org/2000/svg";
function el(p,n,a){var e=document.createElementNS(ns,n);for(var k in a)e.setAttribute(k,a[k]);p.appendChild(e);return e}
function chart(id,series){
 var svg=document.getElementById(id),W=380,H=220,L=48,R=10,T=10,B=30;
 var st=d.stages,n=st.length;if(!n)return;
 var max=0;series.forEach(function(s){st.forEach(function(r){max=Math.max(max,s.get(r))})});if(max<=0)max=1;
 function x(i){return n==1?L+(W-L-R)/2:L+i*(W-L-R)/(n-1)}
 function y(v){return T+(H-T-B)*(1-v/max)}
 el(svg,"line",{x1:L,y1:H-B,x2:W-R,y2:H-B,stroke:"#888"});el(svg,"line",{x1:L,y1:T,x2:L,y2:H-B,stroke:"#888"});
 el(svg,"text",{x:2,y:T+10,"font-size":10}).textContent=max.toPrecision(3);
 st.forEach(function(r,i){el(svg,"text",{x:x(i)-10,y:H-B+14,"font-size":10}).textContent=r.clients});
 st.forEach(function(r,i){if(r.clients===d.first_fail||r.clients===d.last_pass){
  var k=el(svg,"line",{x1:x(i),y1:T,x2:x(i),y2:H-B,stroke:r.clients===d.first_fail?"#b00":"#070","stroke-dasharray":"4 3","class":"knee"});
  el(svg,"text",{x:x(i)+3,y:T+20,"font-size":10,fill:k.getAttribute("stroke")}).textContent=r.clients===d.first_fail?"tips":"holds"}});
 series.forEach(function(s){
  var pts=st.map(function(r,i){return x(i)+","+y(s.get(r))}).join(" ");
  el(svg,"polyline",{points:pts,fill:"none",stroke:s.color,"stroke-width":2,"class":"series"});
  st.forEach(function(r,i){el(svg,"circle",{cx:x(i),cy:y(s.get(r)),r:3,fill:s.color})});
 });
}
chart("c-throughput",[{color:"#36c",get:function(r){return r.throughput_rps}}]);
chart("c-latency",[{color:"#c63",get:function(r){return r.refresh_p99_ms}}]);
chart("c-errors",[{color:"#b00",get:function(r){return 100*r.error_rate}},{color:"#a60",get:function(r){return 100*r.shed_share}}]);
document.body.setAttribute("data-rendered","ok");
}catch(e){document.body.setAttribute("data-error",String(e))}
})();
</script>
</body></html>
`))

// WriteHTML writes the search's page: the stage table and the curves of
// throughput, refresh p99 and errors against fleet size, the knee marked.
func (r *Report) WriteHTML(w io.Writer) error {
	data, err := json.Marshal(r) // escapes <, > and &: safe inside the script element
	if err != nil {
		return fmt.Errorf("capacity page: %w", err)
	}
	return capacityPage.Execute(w, struct {
		R    *Report
		Data template.JS
	}{r, template.JS(data)})
}
