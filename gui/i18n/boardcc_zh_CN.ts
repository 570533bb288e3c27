<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>AgentBar</name>
    <message>
        <location filename="../agent_bar.py" line="48" />
        <source>boardcc agent bar</source>
        <translation>boardcc 座席状态条</translation>
    </message>
    <message>
        <location filename="../agent_bar.py" line="51" />
        <source>job number</source>
        <translation>工号</translation>
    </message>
    <message>
        <location filename="../agent_bar.py" line="54" />
        <source>password</source>
        <translation>密码</translation>
    </message>
    <message>
        <location filename="../agent_bar.py" line="56" />
        <source>station (optional)</source>
        <translation>分机（可选）</translation>
    </message>
    <message>
        <location filename="../agent_bar.py" line="61" />
        <source>number or extension</source>
        <translation>号码或分机</translation>
    </message>
    <message>
        <location filename="../agent_bar.py" line="63" />
        <source>digits</source>
        <translation>按键</translation>
    </message>
    <message>
        <location filename="../agent_bar.py" line="64" />
        <source>blind</source>
        <translation>直接转</translation>
    </message>
    <message>
        <location filename="../agent_bar.py" line="74" />
        <source>Log in</source>
        <translation>签入</translation>
    </message>
    <message>
        <location filename="../agent_bar.py" line="75" />
        <source>Log out</source>
        <translation>签出</translation>
    </message>
    <message>
        <location filename="../agent_bar.py" line="76" />
        <source>Ready</source>
        <translation>置闲</translation>
    </message>
    <message>
        <location filename="../agent_bar.py" line="77" />
        <source>Not ready</source>
        <translation>置忙</translation>
    </message>
    <message>
        <location filename="../agent_bar.py" line="78" />
        <source>Away</source>
        <translation>暂时离席</translation>
    </message>
    <message>
        <location filename="../agent_bar.py" line="79" />
        <source>Answer</source>
        <translation>应答</translation>
    </message>
    <message>
        <location filename="../agent_bar.py" line="80" />
        <source>Hang up</source>
        <translation>挂机</translation>
    </message>
    <message>
        <location filename="../agent_bar.py" line="81" />
        <source>Dial</source>
        <translation>拨号</translation>
    </message>
    <message>
        <location filename="../agent_bar.py" line="82" />
        <source>Send digits</source>
        <translation>送号</translation>
    </message>
    <message>
        <location filename="../agent_bar.py" line="83" />
        <source>Hold</source>
        <translation>保持</translation>
    </message>
    <message>
        <location filename="../agent_bar.py" line="84" />
        <source>Retrieve</source>
        <translation>恢复</translation>
    </message>
    <message>
        <location filename="../agent_bar.py" line="85" />
        <source>Transfer</source>
        <translation>转移</translation>
    </message>
    <message>
        <location filename="../agent_bar.py" line="86" />
        <source>Complete transfer</source>
        <translation>转移完成</translation>
    </message>
    <message>
        <location filename="../agent_bar.py" line="87" />
        <source>Conference</source>
        <translation>会议</translation>
    </message>
    <message>
        <location filename="../agent_bar.py" line="88" />
        <source>Complete conference</source>
        <translation>会议完成</translation>
    </message>
    <message>
        <location filename="../agent_bar.py" line="89" />
        <source>Reconnect</source>
        <translation>接回</translation>
    </message>
    <message>
        <location filename="../agent_bar.py" line="152" />
        <source>Reconnected: log in again.</source>
        <translation>已重新连接：请再次签入。</translation>
    </message>
    <message>
        <location filename="../agent_bar.py" line="169" />
        <source>Not connected to the engine</source>
        <translation>未连接引擎</translation>
    </message>
    <message>
        <location filename="../agent_bar.py" line="172" />
        <source>Logged out</source>
        <translation>已签出</translation>
    </message>
    <message>
        <location filename="../agent_bar.py" line="183" />
        <source>consulting %1</source>
        <translation>正在咨询 %1</translation>
    </message>
    <message>
        <location filename="../agent_bar.py" line="200" />
        <source>Call from %1 to %2</source>
        <translation>来电 %1 呼叫 %2</translation>
    </message>
    <message>
        <location filename="../agent_bar.py" line="202" />
        <source>queue %1</source>
        <translation>队列 %1</translation>
    </message>
    <message>
        <location filename="../agent_bar.py" line="249" />
        <source>%1: done</source>
        <translation>%1: 完成</translation>
    </message>
</context><context>
    <name>AgentEditor</name>
    <message>
        <location filename="../agent_editor.py" line="58" />
        <source>Agent</source>
        <translation>座席</translation>
    </message>
    <message>
        <location filename="../agent_editor.py" line="63" />
        <source>Saved by (supervisor)</source>
        <translation>保存人（座席班长）</translation>
    </message>
    <message>
        <location filename="../agent_editor.py" line="80" />
        <location filename="../agent_editor.py" line="65" />
        <source>Job number</source>
        <translation>工号</translation>
    </message>
    <message>
        <location filename="../agent_editor.py" line="82" />
        <location filename="../agent_editor.py" line="66" />
        <source>Password</source>
        <translation>密码</translation>
    </message>
    <message>
        <location filename="../agent_editor.py" line="72" />
        <source>unchanged</source>
        <translation>不修改</translation>
    </message>
    <message>
        <location filename="../agent_editor.py" line="78" />
        <source>Basic information</source>
        <translation>基本信息</translation>
    </message>
    <message>
        <location filename="../agent_editor.py" line="81" />
        <source>Name</source>
        <translation>姓名</translation>
    </message>
    <message>
        <location filename="../agent_editor.py" line="83" />
        <source>Phone number</source>
        <translation>电话号码</translation>
    </message>
    <message>
        <location filename="../agent_editor.py" line="84" />
        <source>Groups</source>
        <translation>座席组</translation>
    </message>
    <message>
        <location filename="../agent_editor.py" line="85" />
        <source>Skills</source>
        <translation>技能</translation>
    </message>
    <message>
        <location filename="../agent_editor.py" line="87" />
        <source>Permissions</source>
        <translation>座席权限</translation>
    </message>
    <message>
        <location filename="../agent_editor.py" line="105" />
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <location filename="../agent_editor.py" line="149" />
        <source>Saving...</source>
        <translation>正在保存…</translation>
    </message>
    <message>
        <location filename="../agent_editor.py" line="156" />
        <source>No job number to delete.</source>
        <translation>没有要删除的工号。</translation>
    </message>
    <message>
        <location filename="../agent_editor.py" line="161" />
        <source>Delete agent</source>
        <translation>删除座席员</translation>
    </message>
    <message>
        <location filename="../agent_editor.py" line="162" />
        <source>Delete agent {job}? This cannot be undone.</source>
        <translation>删除座席员 {job}？删除后无法恢复。</translation>
    </message>
    <message>
        <location filename="../agent_editor.py" line="166" />
        <source>Deleting...</source>
        <translation>正在删除...</translation>
    </message>
    <message>
        <location filename="../agent_editor.py" line="197" />
        <source>not connected to the engine</source>
        <translation>未连接引擎</translation>
    </message>
    <message>
        <location filename="../agent_editor.py" line="213" />
        <source>Deleted.</source>
        <translation>已删除。</translation>
    </message>
    <message>
        <location filename="../agent_editor.py" line="219" />
        <source>Saved.</source>
        <translation>已保存。</translation>
    </message>
</context><context>
    <name>AgentsPanel</name>
    <message>
        <location filename="../panels.py" line="212" />
        <source>Agent</source>
        <translation>座席</translation>
    </message>
    <message>
        <location filename="../panels.py" line="213" />
        <source>Name</source>
        <translation>姓名</translation>
    </message>
    <message>
        <location filename="../panels.py" line="214" />
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <location filename="../panels.py" line="215" />
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <location filename="../panels.py" line="216" />
        <source>Calls</source>
        <translation>呼叫数</translation>
    </message>
    <message>
        <location filename="../panels.py" line="217" />
        <source>Talk time</source>
        <translation>通话时长</translation>
    </message>
</context><context>
    <name>AlarmBar</name>
    <message>
        <location filename="../panels.py" line="463" />
        <source>Sound</source>
        <translation>声音</translation>
    </message>
    <message>
        <location filename="../panels.py" line="465" />
        <source>Acknowledge</source>
        <translation>确认告警</translation>
    </message>
    <message>
        <location filename="../panels.py" line="481" />
        <source>Line disconnected: channel %1 (%2)</source>
        <translation>线路断开: 通道 %1（%2）</translation>
    </message>
    <message>
        <location filename="../panels.py" line="483" />
        <source>Board alarm: %1</source>
        <translation>板卡告警: %1</translation>
    </message>
    <message>
        <location filename="../panels.py" line="485" />
        <source>Queue below its service level: %1</source>
        <translation>队列服务水平低于目标: %1</translation>
    </message>
    <message>
        <location filename="../panels.py" line="486" />
        <source>Channel %1 failed: %2</source>
        <translation>通道 %1 出错: %2</translation>
    </message>
    <message>
        <location filename="../panels.py" line="493" />
        <source>and %1 more</source>
        <translation>另有 %1 条</translation>
    </message>
</context><context>
    <name>DetailsPanel</name>
    <message>
        <location filename="../panels.py" line="84" />
        <source>Listen</source>
        <translation>监听</translation>
    </message>
    <message>
        <location filename="../panels.py" line="85" />
        <source>Stop listening</source>
        <translation>停止监听</translation>
    </message>
    <message>
        <location filename="../panels.py" line="86" />
        <source>Hang up</source>
        <translation>挂机</translation>
    </message>
    <message>
        <location filename="../panels.py" line="94" />
        <source>Click a channel to see its details.</source>
        <translation>点击一个通道查看详细信息。</translation>
    </message>
    <message>
        <location filename="../panels.py" line="122" />
        <source>Channel</source>
        <translation>通道</translation>
    </message>
    <message>
        <location filename="../panels.py" line="123" />
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <location filename="../panels.py" line="124" />
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <location filename="../panels.py" line="125" />
        <source>Look</source>
        <translation>图例状态</translation>
    </message>
    <message>
        <location filename="../panels.py" line="126" />
        <source>Time in state</source>
        <translation>状态持续</translation>
    </message>
    <message>
        <location filename="../panels.py" line="127" />
        <source>Extension</source>
        <translation>分机</translation>
    </message>
    <message>
        <location filename="../panels.py" line="128" />
        <source>Caller</source>
        <translation>主叫</translation>
    </message>
    <message>
        <location filename="../panels.py" line="129" />
        <source>Called</source>
        <translation>被叫</translation>
    </message>
    <message>
        <location filename="../panels.py" line="132" />
        <source>IVR node</source>
        <translation>IVR 节点</translation>
    </message>
    <message>
        <location filename="../panels.py" line="135" />
        <source>Agent</source>
        <translation>座席</translation>
    </message>
    <message>
        <location filename="../panels.py" line="138" />
        <source>Call</source>
        <translation>呼叫</translation>
    </message>
    <message>
        <location filename="../panels.py" line="139" />
        <source>Route</source>
        <translation>路由</translation>
    </message>
    <message>
        <location filename="../panels.py" line="141" />
        <source>Caller name</source>
        <translation>主叫姓名</translation>
    </message>
    <message>
        <location filename="../panels.py" line="148" />
        <source>Recent events</source>
        <translation>最近事件</translation>
    </message>
</context><context>
    <name>LogPanel</name>
    <message>
        <location filename="../panels.py" line="401" />
        <source>all events</source>
        <translation>全部事件</translation>
    </message>
    <message>
        <location filename="../panels.py" line="405" />
        <source>channel</source>
        <translation>通道</translation>
    </message>
    <message>
        <location filename="../panels.py" line="408" />
        <source>contains text</source>
        <translation>包含文字</translation>
    </message>
    <message>
        <location filename="../panels.py" line="409" />
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <location filename="../panels.py" line="410" />
        <source>Event log</source>
        <translation>事件日志</translation>
    </message>
</context><context>
    <name>LogTableModel</name>
    <message>
        <location filename="../panels.py" line="328" />
        <source>seq</source>
        <translation>序号</translation>
    </message>
    <message>
        <location filename="../panels.py" line="329" />
        <source>time</source>
        <translation>时间</translation>
    </message>
    <message>
        <location filename="../panels.py" line="330" />
        <source>type</source>
        <translation>类型</translation>
    </message>
    <message>
        <location filename="../panels.py" line="331" />
        <source>channel</source>
        <translation>通道</translation>
    </message>
    <message>
        <location filename="../panels.py" line="332" />
        <source>event</source>
        <translation>事件</translation>
    </message>
</context><context>
    <name>MonitorWindow</name>
    <message>
        <location filename="../window.py" line="90" />
        <source>boardcc channel monitor</source>
        <translation>boardcc 通道监控</translation>
    </message>
    <message>
        <location filename="../window.py" line="109" />
        <source>Channel</source>
        <translation>通道</translation>
    </message>
    <message>
        <location filename="../window.py" line="110" />
        <source>Agents</source>
        <translation>座席</translation>
    </message>
    <message>
        <location filename="../window.py" line="111" />
        <source>Queues</source>
        <translation>队列</translation>
    </message>
    <message>
        <location filename="../window.py" line="112" />
        <source>Legend</source>
        <translation>图例</translation>
    </message>
    <message>
        <location filename="../window.py" line="138" />
        <source>Tools</source>
        <translation>工具</translation>
    </message>
    <message>
        <location filename="../window.py" line="140" />
        <source>Agent bar</source>
        <translation>座席状态条</translation>
    </message>
    <message>
        <location filename="../window.py" line="141" />
        <source>Edit agent</source>
        <translation>编辑座席</translation>
    </message>
    <message>
        <location filename="../window.py" line="255" />
        <source>connecting</source>
        <translation>正在连接</translation>
    </message>
    <message>
        <location filename="../window.py" line="257" />
        <source>Disconnected from the engine at %1 (%2): reconnecting</source>
        <translation>与引擎 %1 的连接已断开（%2），正在重新连接</translation>
    </message>
    <message>
        <location filename="../window.py" line="259" />
        <source>Connecting to the engine at %1</source>
        <translation>正在连接引擎 %1</translation>
    </message>
    <message>
        <location filename="../window.py" line="266" />
        <source>connected</source>
        <translation>已连接</translation>
    </message>
    <message>
        <location filename="../window.py" line="266" />
        <source>disconnected</source>
        <translation>已断开</translation>
    </message>
    <message>
        <location filename="../window.py" line="269" />
        <source>%1 | engine time %2 s | %3 channels | %4 calls | %5 events/s | errors %6</source>
        <translation>%1 | 引擎时间 %2 秒 | %3 个通道 | %4 个呼叫 | 每秒 %5 个事件 | 错误 %6</translation>
    </message>
    <message>
        <location filename="../window.py" line="296" />
        <source>%1: done</source>
        <translation>%1: 完成</translation>
    </message>
</context><context>
    <name>QueuesPanel</name>
    <message>
        <location filename="../panels.py" line="291" />
        <location filename="../panels.py" line="284" />
        <source>Queue</source>
        <translation>队列</translation>
    </message>
    <message>
        <location filename="../panels.py" line="285" />
        <source>Waiting</source>
        <translation>等待数</translation>
    </message>
    <message>
        <location filename="../panels.py" line="286" />
        <source>Service level</source>
        <translation>服务水平</translation>
    </message>
    <message>
        <location filename="../panels.py" line="287" />
        <source>Longest wait</source>
        <translation>最长等待</translation>
    </message>
    <message>
        <location filename="../panels.py" line="288" />
        <source>Agents ready</source>
        <translation>空闲座席</translation>
    </message>
    <message>
        <location filename="../panels.py" line="291" />
        <source>Caller</source>
        <translation>主叫</translation>
    </message>
    <message>
        <location filename="../panels.py" line="291" />
        <source>Wait</source>
        <translation>等待</translation>
    </message>
    <message>
        <location filename="../panels.py" line="292" />
        <source>The engine reports no queues.</source>
        <translation>引擎没有报告队列。</translation>
    </message>
    <message>
        <location filename="../panels.py" line="294" />
        <source>Waiting calls</source>
        <translation>排队呼叫</translation>
    </message>
</context><context>
    <name>agent</name>
    <message>
        <location filename="../panels.py" line="155" />
        <source>logged out</source>
        <translation>签出</translation>
    </message>
    <message>
        <location filename="../panels.py" line="156" />
        <source>ready</source>
        <translation>置闲</translation>
    </message>
    <message>
        <location filename="../panels.py" line="157" />
        <source>not ready</source>
        <translation>置忙</translation>
    </message>
    <message>
        <location filename="../panels.py" line="158" />
        <source>away</source>
        <translation>暂时离席</translation>
    </message>
    <message>
        <location filename="../panels.py" line="159" />
        <source>idle</source>
        <translation>空闲</translation>
    </message>
    <message>
        <location filename="../panels.py" line="160" />
        <source>reserved</source>
        <translation>预占</translation>
    </message>
    <message>
        <location filename="../panels.py" line="161" />
        <source>ringing</source>
        <translation>振铃</translation>
    </message>
    <message>
        <location filename="../panels.py" line="162" />
        <source>in call</source>
        <translation>通话</translation>
    </message>
    <message>
        <location filename="../panels.py" line="163" />
        <source>after-call work</source>
        <translation>话后</translation>
    </message>
    <message>
        <location filename="../panels.py" line="164" />
        <source>on hold</source>
        <translation>保持</translation>
    </message>
</context><context>
    <name>grid</name>
    <message>
        <location filename="../grid.py" line="33" />
        <source>trunk</source>
        <translation>外线</translation>
    </message>
    <message>
        <location filename="../grid.py" line="34" />
        <source>station</source>
        <translation>内线</translation>
    </message>
    <message>
        <location filename="../grid.py" line="35" />
        <source>record</source>
        <translation>录音</translation>
    </message>
    <message>
        <location filename="../grid.py" line="36" />
        <source>empty</source>
        <translation>空</translation>
    </message>
</context><context>
    <name>legend</name>
    <message>
        <location filename="../legend.py" line="29" />
        <source>No flow loaded</source>
        <translation>通道尚未加载流程</translation>
    </message>
    <message>
        <location filename="../legend.py" line="30" />
        <source>Flow loaded, not enabled</source>
        <translation>通道已经加载流程，但尚未启用</translation>
    </message>
    <message>
        <location filename="../legend.py" line="31" />
        <source>On hook, idle</source>
        <translation>通道挂机空闲中</translation>
    </message>
    <message>
        <location filename="../legend.py" line="32" />
        <source>Incoming call ringing</source>
        <translation>通道正接收到来电，振铃中</translation>
    </message>
    <message>
        <location filename="../legend.py" line="33" />
        <source>Off hook, dialling</source>
        <translation>通道正摘机后拨号中</translation>
    </message>
    <message>
        <location filename="../legend.py" line="34" />
        <source>Ring-back (waiting for answer)</source>
        <translation>通道回铃中（等待对方摘机）</translation>
    </message>
    <message>
        <location filename="../legend.py" line="35" />
        <source>Talking</source>
        <translation>通道通话中</translation>
    </message>
    <message>
        <location filename="../legend.py" line="36" />
        <source>On hold</source>
        <translation>通道被保持（HOLD）中</translation>
    </message>
    <message>
        <location filename="../legend.py" line="37" />
        <source>Waiting for hang-up</source>
        <translation>等待通道挂机</translation>
    </message>
    <message>
        <location filename="../legend.py" line="38" />
        <source>Sending or receiving fax</source>
        <translation>通道正在收发传真</translation>
    </message>
    <message>
        <location filename="../legend.py" line="39" />
        <source>Line disconnected</source>
        <translation>通道电话线已经断开</translation>
    </message>
    <message>
        <location filename="../legend.py" line="41" />
        <source>Agent logged in by phone, idle</source>
        <translation>通道已经有座席员工通过座席电话机登录，并且当前空闲中</translation>
    </message>
    <message>
        <location filename="../legend.py" line="45" />
        <source>Agent logged in by PC, idle</source>
        <translation>通道已经有座席员工通过座席电脑登录，并且当前空闲中</translation>
    </message>
    <message>
        <location filename="../legend.py" line="46" />
        <source>Agent paused (not ready)</source>
        <translation>座席已经通过座席电脑登录，现在正暂停中</translation>
    </message>
    <message>
        <location filename="../legend.py" line="47" />
        <source>Station ringing</source>
        <translation>内线通道正在振铃中</translation>
    </message>
    <message>
        <location filename="../legend.py" line="49" />
        <source>Station off hook, dialling</source>
        <translation>内线通道正摘机后拨号中</translation>
    </message>
    <message>
        <location filename="../legend.py" line="53" />
        <source>Station ring-back</source>
        <translation>内线通道回铃中（等待对方摘机）</translation>
    </message>
    <message>
        <location filename="../legend.py" line="54" />
        <source>Station talking</source>
        <translation>内线通道正在通话中</translation>
    </message>
    <message>
        <location filename="../legend.py" line="55" />
        <source>Station on hold</source>
        <translation>内线通道被保持（HOLD）中</translation>
    </message>
</context><context>
    <name>permission</name>
    <message>
        <location filename="../agent.py" line="19" />
        <source>Supervisor</source>
        <translation>座席班长</translation>
    </message>
    <message>
        <location filename="../agent.py" line="20" />
        <source>Answer internal calls</source>
        <translation>接听内部电话</translation>
    </message>
    <message>
        <location filename="../agent.py" line="21" />
        <source>Answer queued calls</source>
        <translation>接听排队呼入电话</translation>
    </message>
    <message>
        <location filename="../agent.py" line="22" />
        <source>Pick up calls</source>
        <translation>代接电话</translation>
    </message>
    <message>
        <location filename="../agent.py" line="23" />
        <source>Grab ACD queued calls</source>
        <translation>抓接ACD排队电话</translation>
    </message>
    <message>
        <location filename="../agent.py" line="24" />
        <source>Play recordings</source>
        <translation>播放录音文件</translation>
    </message>
    <message>
        <location filename="../agent.py" line="25" />
        <source>Download recordings</source>
        <translation>下载录音文件</translation>
    </message>
    <message>
        <location filename="../agent.py" line="26" />
        <source>Start recording by hand</source>
        <translation>手动启动同步录音</translation>
    </message>
    <message>
        <location filename="../agent.py" line="27" />
        <source>Dial internal calls</source>
        <translation>拨打内部电话</translation>
    </message>
    <message>
        <location filename="../agent.py" line="28" />
        <source>Dial local calls</source>
        <translation>拨打市内电话</translation>
    </message>
    <message>
        <location filename="../agent.py" line="29" />
        <source>Dial national calls</source>
        <translation>拨打国内电话</translation>
    </message>
    <message>
        <location filename="../agent.py" line="30" />
        <source>Dial international calls</source>
        <translation>拨打国际电话</translation>
    </message>
    <message>
        <location filename="../agent.py" line="31" />
        <source>Transfer calls to outside numbers</source>
        <translation>呼叫转外线</translation>
    </message>
    <message>
        <location filename="../agent.py" line="32" />
        <source>Receive faxes by hand</source>
        <translation>手动接收传真</translation>
    </message>
    <message>
        <location filename="../agent.py" line="33" />
        <source>Download faxes</source>
        <translation>下载传真文件</translation>
    </message>
    <message>
        <location filename="../agent.py" line="34" />
        <source>Send faxes by hand</source>
        <translation>手动发送传真</translation>
    </message>
    <message>
        <location filename="../agent.py" line="35" />
        <source>Monitor calls</source>
        <translation>监听电话</translation>
    </message>
    <message>
        <location filename="../agent.py" line="36" />
        <source>Barge in and force release</source>
        <translation>强插、强拆电话</translation>
    </message>
    <message>
        <location filename="../agent.py" line="37" />
        <source>Force logout of idle agents</source>
        <translation>强行注销其他空闲座席</translation>
    </message>
</context></TS>
