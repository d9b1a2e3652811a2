// The console's words in Mandarin (first: a 12345 centre's language) and English.
const words = {
  zh: {
    brand: "12345 热线", signout: "退出", fullscreen: "全屏", "lang.other": "English",
    "live.title": "实时推送", "live.on": "实时", "live.off": "已断开",
    "nav.wallboard": "大屏", "nav.seats": "座席与坐席员", "nav.dialplans": "话务流程",
    "dp.title": "话务流程编辑", "dp.publish": "发布", "dp.clean": "检查通过，没有问题。", "dp.simulate": "模拟",
    "dp.flow": "流程图", "dp.versions": "版本", "dp.number": "被叫号码", "dp.keys": "按键", "dp.time": "时间",
    "dp.caller": "主叫号码", "dp.path": "菜单路径", "dp.diff": "与草稿对比", "dp.same": "与草稿相同。",
    "dp.rollback": "回滚到此版本", "dp.rolledback": "已回滚到", "dp.published": "已发布版本", "dp.refused": "发布被拒绝：请先修正问题。",
    "signin.title": "登录", "signin.token": "访问令牌", "signin.submit": "登录",
    "signin.hint": "使用管理员分配的令牌登录（本机且未配置令牌时可留空）。",
    "signin.failed": "登录失败：", "role.admin": "管理员", "role.unit_staff": "承办单位", "role.auditor": "审计",
    "wall.title": "实时大屏", "wall.waiting": "排队", "wall.longest": "最长等待", "wall.sl": "服务水平",
    "wall.abandoned": "放弃", "wall.answered": "接通", "wall.offered": "呼入", "wall.callbacks": "待回拨",
    "wall.agents": "坐席员状态", "wall.today": "今日指标", "wall.connect": "接通率",
    "wall.within": "15 秒内接通", "wall.direct": "直接答复率", "wall.onsite": "在岗", "wall.home": "居家",
    "wall.noqueues": "未配置队列。", "wall.updated": "更新于",
    "state.available": "空闲", "state.reserved": "振铃", "state.on_call": "通话中", "state.wrap_up": "话后整理",
    "state.paused": "小休", "state.logged_out": "未登录", "state.unreachable": "不可达", "state.logged_in": "已登录",
    "seats.title": "座席与坐席员", "seats.licensed": "授权座席", "seats.loggedin": "已登录", "seats.remote": "居家座席",
    "seats.set": "调整", "seats.saved": "已生效", "agents.id": "工号", "agents.name": "姓名", "agents.seat": "位置",
    "agents.state": "状态", "agents.skills": "技能", "agents.reachable": "话机", "agents.since": "持续",
    "agents.yes": "可达", "agents.no": "不可达", "seat.on_site": "在岗", "seat.home": "居家",
    "role.agent": "坐席员", "nav.desk": "坐席工作台", "desk.title": "坐席工作台", "desk.login": "签入", "desk.logout": "签出",
    "desk.pause": "小休", "desk.unpause": "恢复接听", "desk.pop": "来电信息", "desk.nocall": "当前没有来电。",
    "desk.history": "该号码的历史工单", "desk.nohistory": "该号码没有历史工单。", "desk.calls": "我今天的通话",
    "desk.nocalls": "今天还没有通话。", "desk.talk": "通话时长", "desk.wrapup": "话后整理剩余",
    "call.offered": "振铃中", "call.talking": "通话中", "call.ended": "已结束",
    "pop.caller": "来电号码", "pop.name": "来电名称", "pop.line": "业务线", "pop.path": "语音导航路径", "pop.keys": "按键",
    "pop.queue": "队列 · 等待", "pop.ticket": "话单号", "pop.arrived": "来电时间",
    "pause.break": "休息", "pause.lunch": "午餐", "pause.training": "培训", "pause.meeting": "会议", "pause.after_call": "话后处理",
    "wo.title": "工单", "wo.category": "类别", "wo.subject": "标题", "wo.description": "诉求内容", "wo.resolution": "办理方式",
    "wo.unit": "承办单位", "wo.save": "保存工单", "wo.saved": "已保存工单", "wo.nocall": "请先选择一通通话。", "wo.id": "工单号",
    "wo.accepted": "受理时间", "wo.status": "状态", "wo.none": "无工单",
    "res.pending": "暂存", "res.answered_directly": "直接答复", "res.dispatched": "派发至承办单位",
    "cat.consultation": "咨询", "cat.complaint": "投诉", "cat.help": "求助", "cat.suggestion": "建议", "cat.report": "举报",
    "status.accepted": "已受理", "status.answered_directly": "已直接答复", "status.dispatched": "已派发", "status.signed": "已签收",
    "status.handled": "已办结", "status.fed_back": "已反馈", "status.return_visited": "已回访", "status.closed": "已归档",
    "status.reopened": "已重办",
    "nav.orders": "工单", "orders.title": "承办单位工作台", "orders.status": "状态", "orders.overdue": "只看超期",
    "orders.filter.open": "待办（已派发、已签收）", "orders.filter.all": "全部", "orders.filter.handled": "已办结", "orders.filter.closed": "已归档",
    "orders.csv": "导出 CSV", "orders.refresh": "刷新", "orders.count": "共", "orders.first": "显示前", "orders.none": "没有符合条件的工单。",
    "orders.clock": "时限", "orders.late": "超期", "orders.left": "剩余", "orders.pick": "选择一张工单查看详情。",
    "orders.note": "备注", "orders.reason": "重办原因", "orders.log": "办理记录", "orders.noactions": "当前没有可办理的操作。",
    "orders.to": "转派至", "orders.score": "满意度", "orders.allunits": "全部单位",
    "orders.sign_deadline": "签收时限", "orders.completion_deadline": "办结时限",
    "event.accepted": "受理", "event.answered_directly": "直接答复", "event.dispatched": "派发", "event.signed": "签收",
    "event.handled": "办结", "event.feedback": "反馈", "event.return_visit": "回访", "event.closed": "归档", "event.reopened": "重办",
    "error.forbidden": "无权查看此页面。", "error.nopages": "您的角色没有可用的页面。", "error.generic": "出错了：",
  },
  en: {
    brand: "12345 Hotline", signout: "Sign out", fullscreen: "Full screen", "lang.other": "中文",
    "live.title": "Live push", "live.on": "Live", "live.off": "Disconnected",
    "nav.wallboard": "Wallboard", "nav.seats": "Seats & agents", "nav.dialplans": "Dialplans",
    "dp.title": "Dialplan editor", "dp.publish": "Publish", "dp.clean": "Checked: no issues.", "dp.simulate": "Simulate",
    "dp.flow": "Flow", "dp.versions": "Versions", "dp.number": "Number dialled", "dp.keys": "Keys", "dp.time": "Time",
    "dp.caller": "Caller", "dp.path": "menu path", "dp.diff": "Diff with draft", "dp.same": "Same as the draft.",
    "dp.rollback": "Roll back to this", "dp.rolledback": "Rolled back to", "dp.published": "Published version", "dp.refused": "Publish refused: fix the issues first.",
    "signin.title": "Sign in", "signin.token": "Access token", "signin.submit": "Sign in",
    "signin.hint": "Sign in with the token your administrator gave you (leave empty on this machine when no token is configured).",
    "signin.failed": "Sign-in failed: ", "role.admin": "admin", "role.unit_staff": "unit staff", "role.auditor": "auditor",
    "wall.title": "Wallboard", "wall.waiting": "Waiting", "wall.longest": "Longest wait", "wall.sl": "Service level",
    "wall.abandoned": "Abandoned", "wall.answered": "Answered", "wall.offered": "Offered", "wall.callbacks": "Callbacks",
    "wall.agents": "Agents", "wall.today": "Today", "wall.connect": "Connect rate",
    "wall.within": "Answered within 15 s", "wall.direct": "Direct-answer rate", "wall.onsite": "On site", "wall.home": "Home",
    "wall.noqueues": "No queues are configured.", "wall.updated": "Updated",
    "state.available": "Available", "state.reserved": "Ringing", "state.on_call": "On call", "state.wrap_up": "Wrap-up",
    "state.paused": "Paused", "state.logged_out": "Logged out", "state.unreachable": "Unreachable", "state.logged_in": "Logged in",
    "seats.title": "Seats and agents", "seats.licensed": "Licensed seats", "seats.loggedin": "Logged in", "seats.remote": "Home seats",
    "seats.set": "Set", "seats.saved": "Applied", "agents.id": "ID", "agents.name": "Name", "agents.seat": "Seat",
    "agents.state": "State", "agents.skills": "Skills", "agents.reachable": "Phone", "agents.since": "For",
    "agents.yes": "reachable", "agents.no": "unreachable", "seat.on_site": "on site", "seat.home": "home",
    "role.agent": "agent", "nav.desk": "Agent desk", "desk.title": "Agent desk", "desk.login": "Log in", "desk.logout": "Log out",
    "desk.pause": "Pause", "desk.unpause": "Resume", "desk.pop": "Caller", "desk.nocall": "No call right now.",
    "desk.history": "This number's earlier work orders", "desk.nohistory": "No earlier work orders for this number.", "desk.calls": "My calls today",
    "desk.nocalls": "No calls yet today.", "desk.talk": "Talk time", "desk.wrapup": "Wrap-up left",
    "call.offered": "ringing", "call.talking": "talking", "call.ended": "ended",
    "pop.caller": "Caller", "pop.name": "Caller name", "pop.line": "Business line", "pop.path": "IVR path", "pop.keys": "Keys",
    "pop.queue": "Queue · wait", "pop.ticket": "Call ticket", "pop.arrived": "Arrived",
    "pause.break": "break", "pause.lunch": "lunch", "pause.training": "training", "pause.meeting": "meeting", "pause.after_call": "after-call work",
    "wo.title": "Work order", "wo.category": "Category", "wo.subject": "Subject", "wo.description": "Description", "wo.resolution": "Resolution",
    "wo.unit": "Unit", "wo.save": "Save work order", "wo.saved": "Saved work order", "wo.nocall": "Pick a call first.", "wo.id": "Work order",
    "wo.accepted": "Accepted", "wo.status": "Status", "wo.none": "none",
    "res.pending": "Keep for later", "res.answered_directly": "Answered directly", "res.dispatched": "Dispatch to a unit",
    "cat.consultation": "consultation", "cat.complaint": "complaint", "cat.help": "help", "cat.suggestion": "suggestion", "cat.report": "report",
    "status.accepted": "accepted", "status.answered_directly": "answered directly", "status.dispatched": "dispatched", "status.signed": "signed",
    "status.handled": "handled", "status.fed_back": "fed back", "status.return_visited": "return visit done", "status.closed": "closed",
    "status.reopened": "reopened",
    "nav.orders": "Work orders", "orders.title": "Unit desk", "orders.status": "Status", "orders.overdue": "Overdue only",
    "orders.filter.open": "To do (dispatched, signed)", "orders.filter.all": "All", "orders.filter.handled": "Handled", "orders.filter.closed": "Closed",
    "orders.csv": "Export CSV", "orders.refresh": "Refresh", "orders.count": "Total", "orders.first": "showing the first", "orders.none": "No work orders match.",
    "orders.clock": "SLA clock", "orders.late": "overdue", "orders.left": "left", "orders.pick": "Pick a work order to see it.",
    "orders.note": "Note", "orders.reason": "Why it is reopened", "orders.log": "Log", "orders.noactions": "Nothing to do on it now.",
    "orders.to": "Dispatch to", "orders.score": "Satisfaction", "orders.allunits": "All units",
    "orders.sign_deadline": "Sign by", "orders.completion_deadline": "Complete by",
    "event.accepted": "Accepted", "event.answered_directly": "Answer directly", "event.dispatched": "Dispatch", "event.signed": "Sign",
    "event.handled": "Handled", "event.feedback": "Feedback", "event.return_visit": "Return visit", "event.closed": "Close", "event.reopened": "Reopen",
    "error.forbidden": "You may not see this page.", "error.nopages": "There are no pages for your role.", "error.generic": "Something went wrong: ",
  },
};

export let lang = localStorage.getItem("hotline.lang") || "zh";

export function t(key) {
  return (words[lang] && words[lang][key]) || words.en[key] || key;
}

export function setLang(next) {
  lang = next;
  localStorage.setItem("hotline.lang", next);
  document.documentElement.lang = next === "zh" ? "zh-CN" : "en";
  translate(document);
}

/** Fills every [data-i18n] element's text (never HTML) and [data-i18n-title] title. */
export function translate(root) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
}
