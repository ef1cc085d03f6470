// ECharts with only the charts and parts the console draws.
import * as echarts from "echarts/core";
import { BarChart, LineChart } from "echarts/charts";
import { GridComponent, LegendComponent, TooltipComponent } from "echarts/components";
import { CanvasRenderer } from "echarts/renderers";

echarts.use([BarChart, LineChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

export function drawChart(element, option, existing) {
  const chart = existing || echarts.init(element);
  chart.setOption(option, true);
  return chart;
}
