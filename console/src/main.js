import { createApp } from "vue";
import { createRouter, createWebHashHistory } from "vue-router";
import ElementPlus from "element-plus";
import "element-plus/dist/index.css";

import App from "./App.vue";
import { whenSignedOut } from "./api.js";
import { i18n } from "./i18n.js";
import { loadMe, session } from "./session.js";
import Dashboard from "./pages/Dashboard.vue";
import Exceptions from "./pages/Exceptions.vue";
import Login from "./pages/Login.vue";
import OrderDetail from "./pages/OrderDetail.vue";
import Orders from "./pages/Orders.vue";
import Audit from "./pages/Audit.vue";
import Connections from "./pages/Connections.vue";
import Jobs from "./pages/Jobs.vue";
import Listings from "./pages/Listings.vue";
import People from "./pages/People.vue";
import Stock from "./pages/Stock.vue";
import Suppliers from "./pages/Suppliers.vue";
import Reports from "./pages/Reports.vue";
import Returns from "./pages/Returns.vue";
import Alerts from "./pages/Alerts.vue";
import Mapping from "./pages/Mapping.vue";
import Rules from "./pages/Rules.vue";
import Finance from "./pages/Finance.vue";
import Buyers from "./pages/Buyers.vue";

const router = createRouter({
  history: createWebHashHistory(),
  routes: [
    { path: "/login", component: Login, meta: { open: true } },
    { path: "/", component: Dashboard },
    { path: "/orders", component: Orders },
    { path: "/orders/:id", component: OrderDetail, props: true },
    { path: "/exceptions", component: Exceptions },
    { path: "/stock", component: Stock },
    { path: "/jobs", component: Jobs },
    { path: "/rules", component: Rules },
    { path: "/suppliers", component: Suppliers },
    { path: "/reports", component: Reports },
    { path: "/finance", component: Finance },
    { path: "/buyers", component: Buyers },
    { path: "/returns", component: Returns },
    { path: "/alerts", component: Alerts },
    { path: "/connections", component: Connections },
    { path: "/connections/:code/mapping", component: Mapping, props: true },
    { path: "/listings", component: Listings },
    { path: "/people", component: People },
    { path: "/audit", component: Audit },
  ],
});

router.beforeEach(async (to) => {
  if (!session.checked) await loadMe();
  if (!to.meta.open && !session.me) return { path: "/login", query: { next: to.fullPath } };
  return true;
});

whenSignedOut(() => {
  session.me = null;
  if (router.currentRoute.value.path !== "/login") router.push("/login");
});

document.documentElement.lang = i18n.global.locale.value;
createApp(App).use(router).use(i18n).use(ElementPlus).mount("#app");
